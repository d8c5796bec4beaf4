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
	tuneMemory()
	ctx, cancel := context.WithCancelCause(context.Background())
	go onSignals(cancel)
	os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// onSignals cancels the run on the first SIGINT or SIGTERM, with the signal
// as the cause: every verb returns promptly on a canceled context (loading
// included, however large the manifest) after its own bounded clean-up, and
// the exit status says which signal it was (130, 143). A second signal ends
// the process at once, clean-up or not, as it would a program that does not
// catch signals.
func onSignals(cancel context.CancelCauseFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	first := (<-sigs).(syscall.Signal)
	cancel(cli.Interrupted{Signal: first})
	second := (<-sigs).(syscall.Signal)
	cli.ForceStop() // a foreground up kills what it was stopping
	os.Exit(cli.SignalExitCode(second))
}
