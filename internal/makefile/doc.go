// Package makefile tests ctpdesk's Makefile: that the checks `make lint` runs fail on what they
// exist to catch (an untidy go.mod, an unformatted .templ file, a reachable advisory), each
// proven by running the Makefile's own target on a small fixture, and that `make help` lists
// every target, aligned, with the steps of `lint` named.
package makefile
