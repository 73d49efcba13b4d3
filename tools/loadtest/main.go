// Command loadtest runs the whole dev dashboard in this process under a bounded load from
// signed-in virtual users on loopback, optionally through a D1 fault sequence, and checks its
// budgets and its audit trail (`make loadtest`, `make loadtest-fault`). It lives outside the
// product binary so that ctpdesk links none of the harness.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ctpdesk/internal/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := loadtest.Command(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}
