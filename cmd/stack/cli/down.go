package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			images, err := imagesToRemove(p, o.RMI)
			if err != nil {
				return err
			}
			d, err := docker.New()
			if err != nil {
				return err
			}
			obs, err := d.Observe(ctx, p.Name)
			if err != nil {
				return err
			}
			plan := engine.Down(p, obs, engine.DownOptions{Volumes: o.Volumes, RemoveOrphans: o.RemoveOrphans, Images: images})
			r := g.newRenderer()
			defer r.Close()
			return engine.Apply(progress.WithSink(ctx, r), d, plan, engine.ApplyOptions{})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the project's named volumes too")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers of services no longer in the manifest, and one-off containers")
	f.StringVar(&o.RMI, "rmi", "", "remove images: local (built for the project, without an image: name) or all")
	return cmd
}

// imagesToRemove lists the images `down --rmi mode` removes.
func imagesToRemove(p *manifest.Project, mode string) ([]string, error) {
	if mode != "" && mode != "local" && mode != "all" {
		return nil, fmt.Errorf("--rmi %q: use local or all", mode)
	}
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
	return out, nil
}
