package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/progress"
)

func init() { register(newPushCommand) }

func newPushCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "push [SERVICE...]",
		Short: "Push service images to their registries",
		Long: "Push the images of the named services (default: every service whose image name carries\n" +
			"a registry, e.g. 127.0.0.1:5000/shop/web:1.0), with the credentials of the Docker config\n" +
			"($DOCKER_CONFIG or ~/.docker/config.json: auths and credential helpers). Each name is\n" +
			"looked up on the engine when push starts, and what the registry stored is checked to be\n" +
			"that image: a build that retags the name meanwhile fails the push instead of pushing its\n" +
			"image. Prints each pushed image as NAME@DIGEST, one a line.",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			b, err := g.builder(p)
			if err != nil {
				return err
			}
			r := g.newRenderer()
			pushed, err := b.Push(progress.WithSink(cmd.Context(), r), p, args)
			for _, x := range pushed {
				fmt.Fprintf(g.Stdout, "%s@%s\n", x.Ref, x.Digest)
			}
			return err
		},
	}
}
