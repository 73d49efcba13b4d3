package cli

import (
	"ctpdesk/internal/syncbuf"
)

// envFrom is a getenv over m.
func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// syncBuffer is safe for the writers of a running program and the test's readers at once.
type syncBuffer = syncbuf.Buffer
