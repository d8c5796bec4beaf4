package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type configOptions struct {
	Format   string
	Services bool
	Images   bool
	NoInject bool
}

func init() { register(newConfigCommand) }

func newConfigCommand(g *Globals) *cobra.Command {
	var o configOptions
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the normalized, fully resolved model stack will deploy",
		Long: "config loads and validates the compose files as `docker compose config` does and prints\n" +
			"the resulting model, with the addresses stack injects into each service's environment\n" +
			"(the engine is only asked which ports images EXPOSE); --no-inject prints the model as\n" +
			"`docker compose config` would.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "yaml" && o.Format != "json" {
				return fmt.Errorf("--format %q: use yaml or json", o.Format)
			}
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			switch {
			case o.Services:
				for _, name := range p.ServiceOrder() {
					if _, err := fmt.Fprintln(g.Stdout, name); err != nil {
						return err
					}
				}
				return nil
			case o.Images:
				for _, name := range p.ServiceNames() {
					if _, err := fmt.Fprintln(g.Stdout, p.ImageName(name)); err != nil {
						return err
					}
				}
				return nil
			}
			if !o.NoInject {
				if _, err := g.injectAddresses(cmd.Context(), p); err != nil {
					return err
				}
			}
			b, err := p.Render(o.Format)
			if err != nil {
				return err
			}
			_, err = g.Stdout.Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "yaml", "output format: yaml or json")
	f.BoolVar(&o.Services, "services", false, "print the service names, one per line, dependencies first")
	f.BoolVar(&o.Images, "images", false, "print the image of each service, one per line")
	f.BoolVar(&o.NoInject, "no-inject", false, "leave out the injected addresses (see `stack env`)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
