package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

func init() { register(newPublishCommand) }

func newPublishCommand(g *Globals) *cobra.Command {
	var o registry.PublishOptions
	cmd := &cobra.Command{
		Use:   "publish REPOSITORY[:TAG]",
		Short: "Push the project's compose files to a registry as an OCI artifact",
		Long: "Push the compose files (and, with --with-env, the services' env files) to a registry as an\n" +
			"OCI artifact of Docker Compose's format: `stack -f oci://REPOSITORY:TAG up` (or docker\n" +
			"compose's) then deploys the project from any directory. The files go as written; the\n" +
			"services' images must be in a registry already (stack push). Prints the artifact's digest.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			d, err := registry.Publish(ctx, p, args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.Stdout, d)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.WithEnv, "with-env", false, "publish the services' env files and environment variables too (anyone who can pull reads them)")
	// Compose's flags: stack asks no questions, and its artifact is OCI 1.1.
	f.BoolP("yes", "y", false, "accepted for Compose's sake: publish asks no questions")
	return cmd
}
