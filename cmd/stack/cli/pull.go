package cli

import (
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newPullCommand) }

func newPullCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pull [SERVICE...]",
		Short: "Pull the images of services that are not built",
		Long: "Pull the image of each named service (default: every service without a build section)\n" +
			"from its registry, with the Docker config's credentials, even when the engine has it:\n" +
			"the usual step before `stack up` in a deploy script.",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			services, err := servicesByBuild(p, args, false,
				"has a build section: its image is built, not pulled (stack build)")
			if err != nil || len(services) == 0 {
				return err
			}
			b, err := g.builder(p)
			if err != nil {
				return err
			}
			r := g.newRenderer()
			_, err = b.Ensure(progress.WithSink(cmd.Context(), r), p, services, image.EnsureOptions{Pull: types.PullPolicyAlways, Build: image.BuildNever})
			return err
		},
	}
}
