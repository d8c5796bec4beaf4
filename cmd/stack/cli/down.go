package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/progress"
)

type downOptions struct {
	Volumes       bool
	RemoveOrphans bool
	RMI           string
}

func init() { register(newDownCommand) }

func newDownCommand(g *Globals) *cobra.Command {
	var o downOptions
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop and remove the project's containers and networks",
		Long: "Stop and remove the project's containers in reverse dependency order, then its networks.\n" +
			"Named volumes are kept unless -v is given; images are removed only with --rmi.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx := cmd.Context()
			if err := validRMI(o.RMI); err != nil {
				return err
			}
			ctx = progress.WithSink(ctx, g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			do := deploy.DownOptions{Volumes: o.Volumes, RemoveOrphans: o.RemoveOrphans, RMI: o.RMI}
			if do.Lock, err = g.lockOptions(cmd); err != nil {
				return err
			}
			return t.Down(ctx, p, do)
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the project's named volumes too")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers of services no longer in the manifest (one-off runs of the others are removed anyway)")
	f.StringVar(&o.RMI, "rmi", "", "remove images: local (built for the project, without an image: name) or all")
	return cmd
}

// validRMI checks --rmi before anything is read or changed.
func validRMI(mode string) error {
	if mode != "" && mode != "local" && mode != "all" {
		return fmt.Errorf("--rmi %q: use local or all", mode)
	}
	return nil
}
