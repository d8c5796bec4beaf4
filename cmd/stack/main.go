// Command stack deploys compose-spec projects: see the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/stack-deploy/stack/cmd/stack/cli"
)

// memoryLimit is the default soft limit of the Go heap. A run of stack is
// short-lived and its live heap small, but loading a large manifest through
// compose-go allocates about 1 GB for 1,000 services, and without a limit
// the collector lets the process grow to twice its live heap. Near the limit
// the collector runs more often; it never fails. GOMEMLIMIT overrides it.
const memoryLimit = 64 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
