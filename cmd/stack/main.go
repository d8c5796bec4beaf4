// Command stack deploys compose-spec projects: see the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stack-deploy/stack/cmd/stack/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
