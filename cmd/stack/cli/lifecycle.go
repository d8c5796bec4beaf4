package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// stop, start and restart act on the containers the project already has,
// in dependency order, creating and removing nothing.

func init() {
	register(func(g *Globals) *cobra.Command {
		return lifecycleCommand(g, "stop", "Stop the services' running containers, dependants first, keeping them", engine.StopServices)
	})
	register(func(g *Globals) *cobra.Command {
		return lifecycleCommand(g, "start", "Start the services' stopped containers, dependencies first", engine.StartServices)
	})
	register(func(g *Globals) *cobra.Command {
		return lifecycleCommand(g, "restart", "Restart the services' containers, dependencies first", engine.RestartServices)
	})
}

func lifecycleCommand(g *Globals, verb, short string, planner deploy.Planner) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   verb + " [SERVICE...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			// Starting waits as up does: for healthy where the image
			// declares a healthcheck.
			o := deploy.LifecycleOptions{Services: args, Wait: verb != "stop", Apply: engine.ApplyOptions{Timeout: timeout}}
			if o.Lock, err = g.lockOptions(cmd, args...); err != nil {
				return err
			}
			return t.Lifecycle(ctx, p, planner, o)
		},
	}
	if verb != "stop" {
		cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long a service may take to be running, healthy or completed")
	}
	lockFlag(cmd)
	return cmd
}
