package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newAttachCommand) }

func newAttachCommand(g *Globals) *cobra.Command {
	var (
		o     engine.AttachOptions
		index int
	)
	cmd := &cobra.Command{
		Use:   "attach SERVICE",
		Short: "Attach this terminal to a service container's input and output",
		Long: "Attach to a running service container (its first, or replica --index), as docker attach:\n" +
			"its output from now on, this terminal's input to it (when it keeps stdin open:\n" +
			"stdin_open: true), until it exits or you type the detach keys (ctrl-p,ctrl-q).",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			t, c, at, err := oneOnOneEngine[engine.Attacher](ctx, g, "attach", args[0], index, true)
			if err != nil {
				return err
			}
			defer t.Close()
			o.Stdin, o.Stdout, o.Stderr = g.Stdin, g.Stdout, g.Stderr
			sctx, stop := context.WithCancel(ctx)
			defer stop()
			o.Sizes = terminalSizes(sctx, g.Stdout, g.Stdin)
			if f, ok := g.Stdin.(*os.File); ok && termIsTerminal(int(f.Fd())) {
				o.Raw = func() func() {
					st, err := term.MakeRaw(int(f.Fd()))
					if err != nil {
						return func() {}
					}
					return func() { _ = term.Restore(int(f.Fd()), st) }
				}
			}
			return at.Attach(ctx, c, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&index, "index", 0, "the replica, when the service has several")
	f.BoolVar(&o.NoStdin, "no-stdin", false, "do not attach this side's input")
	f.StringVar(&o.DetachKeys, "detach-keys", "", "the key sequence that detaches (default ctrl-p,ctrl-q)")
	// Compose's flag; signals end stack's attach, not the container.
	f.Bool("sig-proxy", true, "accepted for Compose's sake: Ctrl-C detaches, the container keeps running")
	return cmd
}
