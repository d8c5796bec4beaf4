package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

type promoteOptions struct {
	Lock  string
	Force bool
}

func init() { register(newPromoteCommand) }

func newPromoteCommand(g *Globals) *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote FROM TO [--lock FILE|TAG] [--force]",
		Short: "Copy a release's images from one environment's registry to another's, by digest",
		Long: "Copy every image of a release (default: FROM's newest) from FROM's registry to\n" +
			"TO's, registry to registry: no Docker engine, no rebuild, the same bytes under the same\n" +
			"digests, checked on arrival. Images TO already has are not copied again. Only when every\n" +
			"image arrived is TO's lock written (.stack/releases/TO/...) and its path printed; on any\n" +
			"failure TO's locks are left as they were and the error names each image and registry.\n" +
			"Credentials come from the Docker config. When FROM has checks (x-stack.environments.FROM.verify),\n" +
			"only a release whose last verification there ran them all and passed is promoted (stack\n" +
			"verify --env FROM); --force promotes it anyway and TO's lock says so (promoted_from.forced).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			from, to := args[0], args[1]
			if from == to {
				return fmt.Errorf("promote %s %s: FROM and TO are the same environment", from, to)
			}
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			fromP, err := g.loadFor(ctx, from)
			if err != nil {
				return err
			}
			p, err := g.loadFor(ctx, to)
			if err != nil {
				return err
			}
			src, err := g.promotable(ctx, fromP, to, o)
			if err != nil {
				return err
			}
			l := src.Lock
			pr, err := registry.NewPromoter()
			if err != nil {
				return err
			}
			// Only registries change, but TO's releases serialise on the
			// lock on TO's engine, where `stack release --env TO` takes it.
			t, err := g.target(p)
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, unlock, err := g.hold(ctx, cmd, t, p.Name, args...)
			if err != nil {
				return err
			}
			defer unlock(&err)
			promoted, err := pr.Promote(ctx, l, registry.Target{Environment: to, Registry: p.Env.Registry, Project: p.Name})
			if err != nil {
				return err
			}
			if src.unverified != "" {
				promoted.PromotedFrom.Forced, promoted.PromotedFrom.Unverified = true, src.unverified
			}
			return g.saveLock(ctx, p, promoted, "promote")
		},
	}
	lockFlag(cmd)
	cmd.Flags().StringVar(&o.Lock, "lock", registry.CurrentLock, "the release to promote: a lock file, a tag, or current: FROM's newest release")
	cmd.Flags().BoolVar(&o.Force, "force", false, "promote a release that is not verified on FROM; the lock records that it was forced")
	return cmd
}

// loadFor loads the manifest for environment env, whatever --env says.
func (g *Globals) loadFor(ctx context.Context, env string) (*manifest.Project, error) {
	c := *g
	c.Env = env
	return c.LoadProject(ctx)
}

// source is the release a promotion copies, and why it is not verified
// when --force promotes it anyway.
type source struct {
	*registry.Release
	unverified string
}

// promotable finds the release to promote in FROM's history (its newest
// for --lock current, else the lock file or tag --lock names) and checks
// that it passed FROM's checks; with --force a release that did not is
// promoted with a warning.
func (g *Globals) promotable(ctx context.Context, fromP *manifest.Project, to string, o promoteOptions) (*source, error) {
	from := fromP.Env.Name
	h, err := g.history(fromP)
	if err != nil {
		return nil, err
	}
	releases, err := h.Releases(ctx)
	if err != nil {
		return nil, err
	}
	var r *registry.Release
	switch {
	case o.Lock == registry.CurrentLock || o.Lock == "":
		if len(releases) == 0 {
			return nil, fmt.Errorf("%w for environment %q: make one with stack release --env %s", registry.ErrNoRelease, from, from)
		}
		r = releases[0]
	case fileExists(o.Lock):
		l, err := registry.ReadLock(o.Lock)
		if err != nil {
			return nil, err
		}
		r = &registry.Release{ID: registry.LockID(l), Lock: l, Path: o.Lock}
		for _, known := range releases {
			if known.ID == r.ID {
				r = known
			}
		}
	default:
		if r, err = registry.FindRelease(releases, o.Lock); err != nil {
			return nil, err
		}
	}
	if r.Lock.Environment != from {
		return nil, fmt.Errorf("lock %s is a release of environment %q, not %q: run stack promote %s %s --lock %s", o.Lock, r.Lock.Environment, from, r.Lock.Environment, to, o.Lock)
	}
	var names []string
	for _, c := range fromP.Checks() {
		names = append(names, c.Name())
	}
	err = registry.CheckVerified(r, from, names)
	switch {
	case err == nil:
		return &source{Release: r}, nil
	case !o.Force:
		return nil, fmt.Errorf("refusing to promote: %w; or promote it anyway with --force", err)
	}
	progress.Report(ctx, "release:"+from, "promote", progress.Warning, "promoting anyway (--force): "+err.Error(), nil)
	return &source{Release: r, unverified: err.Error()}, nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
