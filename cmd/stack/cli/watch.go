package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/watch"
)

func init() { register(newWatchCommand) }

func newWatchCommand(g *Globals) *cobra.Command {
	var noUp bool
	cmd := &cobra.Command{
		Use:   "watch [SERVICE...]",
		Short: "Converge, then apply the services' develop.watch rules as their files change",
		Long: "Converge the services (unless --no-up), then watch the paths of their develop.watch rules\n" +
			"and apply each burst of changes: sync copies the files into the running containers (deletes\n" +
			"included), sync+restart and sync+exec then restart them or run a command in them, rebuild\n" +
			"builds the image and replaces the service as up does (start-first behind the gateway).\n" +
			"ignore, include and the build context's .dockerignore leave files out. Ctrl-C ends it.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			if err := g.watchable(ctx, args); err != nil {
				return err // before anything changes
			}
			if !noUp {
				p, t, err := g.open(ctx)
				if err != nil {
					return err
				}
				err = g.converge(ctx, cmd, t, p, deploy.Options{Diff: engine.DiffOptions{Services: args}}, engine.ApplyOptions{Parallel: engine.DefaultParallel, Timeout: 10 * time.Minute})
				t.Close()
				if err != nil {
					return err
				}
			}
			return g.watch(ctx, cmd, args)
		},
	}
	lockFlag(cmd)
	cmd.Flags().BoolVar(&noUp, "no-up", false, "do not converge the services before watching")
	// Compose's flags.
	cmd.Flags().Bool("prune", true, "accepted for Compose's sake: a rebuild's image replaces the last one under its name")
	cmd.Flags().Bool("quiet", false, "accepted for Compose's sake: builds print one line per image")
	return cmd
}

// errWatchSync says why a Swarm cannot take watch's file syncs.
var errWatchSync = errors.New("sync copies files into running containers through one Docker engine's API, and a Swarm's tasks run on its nodes, each replaced by the next update; " +
	"use rebuild rules, or run the dev loop with --orchestrator docker")

// watchable refuses, before anything changes, rules that services'
// orchestrator cannot apply.
func (g *Globals) watchable(ctx context.Context, services []string) error {
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	_, _, err = watchRules(p, t, services)
	return err
}

// watchRules are the develop.watch rules of services, and what syncs
// their files; an error when the orchestrator cannot sync and a rule does.
func watchRules(p *manifest.Project, t *deploy.Target, services []string) ([]watch.Rule, engine.Syncer, error) {
	rules, err := watch.Rules(p, services)
	if err != nil {
		return nil, nil, err
	}
	syncer, serr := engine.Capability[engine.Syncer](t.Driver, "watch")
	for _, r := range rules {
		if r.Syncs() && serr != nil {
			return nil, nil, fmt.Errorf("service %q: develop.watch action %s: %w (%w)", r.Service, r.Action, serr, errWatchSync)
		}
	}
	return rules, syncer, nil
}

// watch applies the develop.watch rules of services until ctx ends.
func (g *Globals) watch(ctx context.Context, cmd *cobra.Command, services []string) error {
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	rules, syncer, err := watchRules(p, t, services)
	if err != nil {
		return err
	}
	runningOf := func(ctx context.Context, service string) ([]engine.Container, error) {
		rows, err := listContainers(ctx, t, p, "watch")
		if err != nil {
			return nil, err
		}
		return selection{Services: []string{service}, Keep: running}.pick(p, rows), nil
	}
	err = watch.Run(ctx, watch.Options{
		Rules: rules,
		Sync: func(ctx context.Context, service string, changes []engine.FileChange) error {
			return syncer.Sync(ctx, p.Name, service, changes)
		},
		Rebuild: func(ctx context.Context, service string) error {
			return g.rebuild(ctx, cmd, t, service)
		},
		Restart: func(ctx context.Context, service string) error {
			return g.restartService(ctx, cmd, service)
		},
		Exec: func(ctx context.Context, service string, h types.ServiceHook) error {
			cs, err := runningOf(ctx, service)
			if err != nil {
				return err
			}
			return g.execHook(ctx, t, p.Name, cs, h)
		},
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// rebuild builds service's image and replaces its containers, as `up
// --build --no-deps SERVICE` does, from the manifest as it is now.
func (g *Globals) rebuild(ctx context.Context, cmd *cobra.Command, t *deploy.Target, service string) error {
	p, err := g.LoadProject(ctx)
	if err != nil {
		return err
	}
	o := deploy.Options{Diff: engine.DiffOptions{Services: []string{service}, NoDeps: true}, Images: image.EnsureOptions{Build: image.BuildAlways}}
	return g.converge(ctx, cmd, t, p, o, engine.ApplyOptions{Parallel: engine.DefaultParallel, Timeout: 10 * time.Minute})
}

// restartService restarts service's containers, as `stack restart SERVICE`.
func (g *Globals) restartService(ctx context.Context, cmd *cobra.Command, service string) error {
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	o := deploy.LifecycleOptions{Services: []string{service}, Wait: true, Apply: engine.ApplyOptions{Timeout: 10 * time.Minute}}
	if o.Lock, err = g.lockOptions(cmd, service); err != nil {
		return err
	}
	return t.Lifecycle(ctx, p, engine.RestartServices, o)
}

// execHook runs a sync+exec command in each of cs, its output on stdout.
func (g *Globals) execHook(ctx context.Context, t *deploy.Target, project string, cs []engine.Container, h types.ServiceHook) error {
	ex, err := engine.Capability[engine.Execer](t.Driver, "watch")
	if err != nil {
		return err
	}
	var env []string
	for k, v := range h.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	for _, c := range cs {
		code, err := ex.Exec(ctx, project, engine.ExecOptions{
			Service: c.Service, Index: c.Number, Command: h.Command, Env: env,
			User: h.User, WorkingDir: h.WorkingDir, Privileged: h.Privileged,
			Stdout: g.Stdout, Stderr: g.Stderr,
		})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("running %v in container %q: exit status %d", h.Command, c.Name, code)
		}
	}
	return nil
}
