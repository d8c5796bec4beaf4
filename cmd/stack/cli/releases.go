package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

type releasesOptions struct {
	Format string
}

func init() { register(newReleasesCommand) }

func newReleasesCommand(g *Globals) *cobra.Command {
	var o releasesOptions
	cmd := &cobra.Command{
		Use:   "releases --env ENV",
		Short: "List an environment's release locks, newest first",
		Long: "List an environment's releases, newest first, as its registry's history and the checkout's\n" +
			".stack/releases hold them: tag, images by short digest, status (running: the engine runs its\n" +
			"images; verified, failed, deployed, released or promoted; rolled back), when and by whom it\n" +
			"got there, and where it was promoted from. Roll back with stack rollback --env ENV.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "table" && o.Format != "json" {
				return fmt.Errorf("--format %q: use table or json", o.Format)
			}
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			if p.Env == nil {
				return fmt.Errorf("stack releases: choose the environment with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
			}
			_, releases, _, err := g.releasesOf(cmd.Context(), p)
			if err != nil {
				return err
			}
			return writeHistory(g, releases, o.Format)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

// running reads what the project runs on the environment's engine (a
// Swarm's: what its tasks run); when no engine answers it warns and returns
// nil: the list of locks stands alone.
func (g *Globals) running(ctx context.Context, p *manifest.Project) registry.Running {
	t, err := g.target(p)
	if err == nil {
		defer t.Close()
		var r registry.Running
		if r, err = t.Running(ctx, p.Name); err == nil {
			return r
		}
	}
	fmt.Fprintf(g.Stderr, "stack: warning: not showing which release runs: %v\n", err)
	return nil
}
