package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

type promoteOptions struct {
	Lock string
}

func init() { register(newPromoteCommand) }

func newPromoteCommand(g *Globals) *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote FROM TO [--lock FILE]",
		Short: "Copy a release's images from one environment's registry to another's, by digest",
		Long: "Copy every image of a release (default: FROM's current lock) from FROM's registry to\n" +
			"TO's, registry to registry: no Docker engine, no rebuild, the same bytes under the same\n" +
			"digests, checked on arrival. Images TO already has are not copied again. Only when every\n" +
			"image arrived is TO's lock written (.stack/releases/TO/...) and its path printed; on any\n" +
			"failure TO's locks are left as they were and the error names each image and registry.\n" +
			"Credentials come from the Docker config.",
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
			path, err := registry.LockFor(fromP, o.Lock)
			if err != nil {
				return err
			}
			l, err := registry.ReadLock(path)
			if err != nil {
				return err
			}
			if l.Environment != from {
				return fmt.Errorf("lock %s is a release of environment %q, not %q: run stack promote %s %s --lock %s", path, l.Environment, from, l.Environment, to, path)
			}
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
			return g.saveLock(ctx, registry.Store{Dir: registry.DefaultStoreDir(p.WorkingDir)}, promoted, "promote")
		},
	}
	lockFlag(cmd)
	cmd.Flags().StringVar(&o.Lock, "lock", registry.CurrentLock, "lock file of the release to promote; current: FROM's current lock")
	return cmd
}

// loadFor loads the manifest for environment env, whatever --env says.
func (g *Globals) loadFor(ctx context.Context, env string) (*manifest.Project, error) {
	c := *g
	c.Env = env
	return c.LoadProject(ctx)
}
