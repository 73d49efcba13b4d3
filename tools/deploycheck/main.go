// Command deploycheck validates deploy/ offline for `make lint`: the Kubernetes manifests are
// decoded strictly into the k8s.io/api types and checked against ctpdesk's rules, and the
// Dockerfile against the image rules (see package ctpdesk/internal/deploycheck).
//
//	deploycheck [-k8s deploy/k8s] [-dockerfile deploy/Dockerfile]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"ctpdesk/internal/deploycheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns 0 when deploy/ passes, 1 when a rule fails and 2 for usage errors.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploycheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	k8sDir := fs.String("k8s", "deploy/k8s", "folder of Kubernetes manifests")
	dockerfile := fs.String("dockerfile", "deploy/Dockerfile", "Dockerfile of the image")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var errs []error
	b, err := deploycheck.Load(*k8sDir)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, deploycheck.Check(b, deploycheck.DefaultOptions()))
	}
	if text, err := os.ReadFile(*dockerfile); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, deploycheck.CheckDockerfile(string(text)))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "deploycheck: deploy/ is not valid:\n%v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "deploycheck: %d Deployment, %d Service, %d ConfigMap, %d Secret, %d PodDisruptionBudget, %d ServiceAccount and the Dockerfile pass\n",
		len(b.Deployments), len(b.Services), len(b.ConfigMaps), len(b.Secrets), len(b.PDBs), len(b.ServiceAccounts))
	return 0
}
