package cli

import (
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
)

func init() { register(newCreateCommand) }

func newCreateCommand(g *Globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "create [SERVICE...]",
		Short: "Create the services' containers as up would, without starting them",
		Long: "Build and pull what up would, create the networks and volumes, and create (or replace)\n" +
			"the containers whose configuration changed, without starting any: `stack start` or\n" +
			"`stack up` starts them. Containers that exist and did not change are left as they are.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Services = args
			return g.up(cmd, args, deploy.UpOptions{Create: true}, &o)
		},
	}
	lockFlag(cmd)
	o.flags(cmd)
	return cmd
}
