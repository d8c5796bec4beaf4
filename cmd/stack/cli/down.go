package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
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
			p, t, err := g.open(ctx, "")
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, unlock, err := g.hold(ctx, cmd, t, p.Name)
			if err != nil {
				return err
			}
			defer unlock(&err)
			obs, err := t.Driver.Observe(ctx, p)
			if err != nil {
				return err
			}
			images := imagesToRemove(p, o.RMI)
			plan := engine.Down(p, obs, engine.DownOptions{Volumes: o.Volumes, RemoveOrphans: o.RemoveOrphans, Images: images})
			return engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{})
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the project's named volumes too")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers of services no longer in the manifest, and one-off containers")
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

// imagesToRemove lists the images `down --rmi mode` removes.
func imagesToRemove(p *manifest.Project, mode string) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range p.ServiceNames() {
		s := p.Project.Services[name]
		if mode == "" || (mode == "local" && s.Image != "") {
			continue
		}
		if img := p.ImageName(name); !seen[img] {
			seen[img] = true
			out = append(out, img)
		}
	}
	return out
}
