package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type configOptions struct {
	Format   string
	Services bool
	Images   bool
}

func init() { register(newConfigCommand) }

func newConfigCommand(g *Globals) *cobra.Command {
	var o configOptions
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the normalized, fully resolved model stack will deploy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			switch {
			case o.Services:
				for _, name := range p.ServiceNames() {
					fmt.Fprintln(g.Stdout, name)
				}
				return nil
			case o.Images:
				for _, name := range p.ServiceNames() {
					fmt.Fprintln(g.Stdout, p.Project.Services[name].Image)
				}
				return nil
			}
			var b []byte
			switch o.Format {
			case "yaml":
				b, err = p.MarshalYAML()
			case "json":
				b, err = p.MarshalJSON()
			default:
				return fmt.Errorf("--format %q: use yaml or json", o.Format)
			}
			if err != nil {
				return fmt.Errorf("rendering the model: %w", err)
			}
			_, err = g.Stdout.Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "yaml", "output format: yaml or json")
	f.BoolVar(&o.Services, "services", false, "print the service names, one per line")
	f.BoolVar(&o.Images, "images", false, "print the image names, one per line")
	return cmd
}
