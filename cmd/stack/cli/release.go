package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

type releaseOptions struct {
	Tag   string
	Force bool
}

func init() { register(newReleaseCommand) }

func newReleaseCommand(g *Globals) *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "release --env ENV [--tag TAG]",
		Short: "Build, push and lock a release into an environment's registry",
		Long: "Build the services that have a build section (unchanged ones are skipped), push every\n" +
			"service's image by its image ID into the environment's registry as\n" +
			"<registry>/<service>:<tag> with the credentials of the Docker config, check that the\n" +
			"registry stored that very image, point <registry>/<service>'s own tag (latest) at it, and\n" +
			"write a lock file pinning every service to the digest the registry stored:\n" +
			"  .stack/releases/<env>/<time>-<tag>.json, and .stack/releases/<env>/current names it,\n" +
			"and store the lock in the registry's release history (<registry>/stack-releases).\n" +
			"Prints the lock file's path. Deploy it with `stack up --env ENV --lock FILE`, move it to\n" +
			"another environment with `stack promote`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, unlock, err := g.hold(ctx, cmd, t, p.Name)
			if err != nil {
				return err
			}
			defer unlock(&err)
			b := t.Builder
			pr, err := registry.NewPromoter()
			if err != nil {
				return err
			}
			policy := image.BuildAuto
			if o.Force {
				policy = image.BuildAlways
			}
			l, err := registry.Releaser{Images: b, Registry: pr}.Release(ctx, p, registry.ReleaseOptions{Tag: o.Tag, Build: policy})
			if err != nil {
				return err
			}
			return g.saveLock(ctx, p, l, "release")
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Tag, "tag", "", "release tag (default: <UTC time>-<git commit>, e.g. 20261122-011500-0123abc)")
	f.BoolVar(&o.Force, "force", false, "build even when the inputs did not change")
	return cmd
}

// saveLock saves l in the history of p's environment (its lock file, and
// a record in its registry), reports it, and prints the file's path on
// stdout (the events, JSON ones included, go to stderr).
func (g *Globals) saveLock(ctx context.Context, p *manifest.Project, l *registry.Lock, action string) error {
	h, err := g.history(p)
	if err != nil {
		return err
	}
	path, err := h.SaveLock(ctx, l)
	if err != nil {
		return err
	}
	progress.Report(ctx, "release:"+l.Environment, action, progress.Done, fmt.Sprintf("%s (%d images) locked in %s", l.Tag, len(l.Services), path), nil)
	_, err = fmt.Fprintln(g.Stdout, path)
	return err
}
