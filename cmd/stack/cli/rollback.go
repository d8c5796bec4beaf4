package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

type rollbackOptions struct {
	DryRun  bool
	Timeout time.Duration
}

func init() { register(newRollbackCommand) }

func newRollbackCommand(g *Globals) *cobra.Command {
	var o rollbackOptions
	cmd := &cobra.Command{
		Use:   "rollback --env ENV [RELEASE]",
		Short: "Deploy an environment's last good release again",
		Long: "Deploy again, as `stack up --env ENV --lock` does (all or nothing, health-gated, under the\n" +
			"deploy lock), the newest release older than the one the environment runs that was deployed\n" +
			"and verified: never one marked failed, nor one a rollback already replaced. RELEASE (a tag,\n" +
			"a lock file or an id) names another. The history is the registry's and the checkout's, so a\n" +
			"fresh checkout rolls back the same way; the release's lock file is written to .stack/releases\n" +
			"when only the registry had it. The plan is shown first; --dry-run shows only the plan.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			if p.Env == nil {
				return fmt.Errorf("stack rollback: choose the environment with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
			}
			h, releases, running, err := g.releasesOf(ctx, p)
			if err != nil {
				return err
			}
			var target *registry.Release
			if len(args) == 1 {
				target, err = registry.FindRelease(releases, args[0])
			} else {
				target, err = registry.RollbackTarget(releases)
			}
			if err != nil {
				return fmt.Errorf("rolling back %s: %w", p.Env.Name, err)
			}
			path, cleanup, err := lockFileOf(h, target, o.DryRun)
			if err != nil {
				return err
			}
			defer cleanup()
			fromTag, fromID := "what runs (no release of its history)", ""
			if running != nil {
				fromTag, fromID = running.Lock.Tag, running.ID
			}
			fmt.Fprintf(g.Stdout, "rolling %s back from %s to %s (%s, %s)\n", p.Env.Name, fromTag, target.Lock.Tag, registry.Short(target.ID), target.Status())
			return g.upLock(ctx, cmd, path, fromID, o)
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "show the release chosen and the plan; change nothing")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long a service may take to be running, healthy or completed")
	return cmd
}

// lockFileOf returns a lock file of r to deploy: its own, or the
// registry's copy written into the checkout; for a dry run, which writes
// nothing to the checkout, a temporary file removed by cleanup.
func lockFileOf(h *registry.History, r *registry.Release, dryRun bool) (path string, cleanup func(), err error) {
	if r.Path != "" || !dryRun {
		path, err = h.LockFile(r)
		return path, func() {}, err
	}
	dir, err := os.MkdirTemp("", "stack-rollback-")
	if err != nil {
		return "", nil, err
	}
	path, err = registry.Store{Dir: dir}.Import(r.Lock)
	return path, func() { _ = os.RemoveAll(dir) }, err
}

// upLock deploys the release lock at path to the --env environment as
// `stack up --env ENV --lock path` does (deploy.Up: the manifest pinned to
// the lock, all or nothing, every service ready before it returns, under
// the deploy lock, the deploy recorded as a rollback from the release
// fromID); the plan is printed first, and with o.DryRun alone.
func (g *Globals) upLock(ctx context.Context, cmd *cobra.Command, path, fromID string, o rollbackOptions) error {
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	uo := deploy.UpOptions{Release: path, RollbackFrom: fromID, DryRun: o.DryRun,
		Apply:   engine.ApplyOptions{Parallel: engine.DefaultParallel, Timeout: o.Timeout},
		Planned: func(plan *engine.Plan) { fmt.Fprint(g.Stdout, plan.Text()) }}
	if uo.Lock, err = g.lockOptions(cmd, "--lock", filepath.Base(path)); err != nil {
		return err
	}
	return t.Up(ctx, p, uo)
}
