package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
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

type lifecyclePlanner func(*manifest.Project, engine.Images, *engine.Observed, []string) (*engine.Plan, error)

func lifecycleCommand(g *Globals, verb, short string, planner lifecyclePlanner) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   verb + " [SERVICE...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			ctx, p, t, obs, unlock, err := g.observe(ctx, cmd, args...)
			if err != nil {
				return err
			}
			defer t.Close()
			defer unlock(&err)
			var images engine.Images
			if verb != "stop" {
				// Starting waits as up does: for healthy where the image
				// declares a healthcheck.
				if images, err = t.ImageFacts(ctx, p); err != nil {
					return err
				}
			}
			plan, err := planner(p, images, obs, args)
			if err != nil {
				return err
			}
			return engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{Timeout: timeout})
		},
	}
	if verb != "stop" {
		cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long a service may take to be running, healthy or completed")
	}
	lockFlag(cmd)
	return cmd
}

// observe loads the manifest, connects to its engine, takes the project's
// deploy lock for cmd (args: what the waiting runs are told it works on) and
// reads, once, what the engine holds for it: the start of the verbs that
// change existing containers (stop, start, restart, rm), which must not
// interleave with a deploy: an up waiting for a container to turn healthy,
// or rolling one back, would meet a state it did not plan for. It returns
// the context to work under and unlock (see hold). kill and pause do not
// wait for a deploy: they are what stops one gone wrong.
func (g *Globals) observe(ctx context.Context, cmd *cobra.Command, args ...string) (context.Context, *manifest.Project, *deploy.Target, *engine.Observed, func(*error), error) {
	p, t, err := g.open(ctx, "")
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	ctx, unlock, err := g.hold(ctx, cmd, t, p.Name, args...)
	if err != nil {
		t.Close()
		return nil, nil, nil, nil, nil, err
	}
	obs, err := t.Driver.Observe(ctx, p)
	if err != nil {
		unlock(&err)
		t.Close()
		return nil, nil, nil, nil, nil, err
	}
	return ctx, p, t, obs, unlock, nil
}
