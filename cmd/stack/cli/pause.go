package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// pause and unpause freeze and resume every process of the services'
// containers; the containers keep their state, ports and memory.

func init() {
	register(func(g *Globals) *cobra.Command {
		return pauseCommand(g, "pause", "Freeze every process of the services' running containers", "running",
			func(ctx context.Context, p engine.Pauser, cs []engine.Container) error { return p.Pause(ctx, cs) })
	})
	register(func(g *Globals) *cobra.Command {
		return pauseCommand(g, "unpause", "Resume the services' paused containers", "paused",
			func(ctx context.Context, p engine.Pauser, cs []engine.Container) error { return p.Unpause(ctx, cs) })
	})
}

func pauseCommand(g *Globals, verb, short, state string, call func(context.Context, engine.Pauser, []engine.Container) error) *cobra.Command {
	return &cobra.Command{
		Use:               verb + " [SERVICE...]",
		Short:             short,
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, rows, err := g.projectContainers(ctx, verb, args)
			if err != nil {
				return err
			}
			defer t.Close()
			cs := selection{Services: args, Keep: func(s engine.Status) bool { return s.State == state }}.pick(p, rows)
			if len(cs) == 0 {
				fmt.Fprintf(g.Stderr, "No %s container to %s\n", state, verb)
				return nil
			}
			pauser, err := engine.Capability[engine.Pauser](t.Driver, verb)
			if err != nil {
				return err
			}
			return call(ctx, pauser, cs)
		},
	}
}
