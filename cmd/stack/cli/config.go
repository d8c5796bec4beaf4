package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

type configOptions struct {
	Format   string
	Services bool
	Images   bool
	NoInject bool
	Hash     bool
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
			"`docker compose config` would.\n\n" +
			"--format kubernetes prints the Kubernetes objects the project maps to instead, as one\n" +
			"multi-document YAML stream with no cluster contacted, the same bytes for the same project:\n" +
			"for a GitOps repository (Argo CD, Flux), kubectl apply -f -, or reading what would be applied.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "yaml" && o.Format != "json" && o.Format != formatKubernetes {
				return fmt.Errorf("--format %q: use yaml, json or kubernetes", o.Format)
			}
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			if o.Format == formatKubernetes && !o.Services && !o.Hash && !o.Images {
				return g.printKubernetes(cmd.Context(), p, !o.NoInject)
			}
			switch {
			case o.Services:
				for _, name := range p.ServiceOrder() {
					if _, err := fmt.Fprintln(g.Stdout, name); err != nil {
						return err
					}
				}
				return nil
			case o.Hash:
				return g.printHashes(cmd.Context(), p)
			case o.Images:
				for _, name := range p.ServiceNames() {
					if _, err := fmt.Fprintln(g.Stdout, p.ImageName(name)); err != nil {
						return err
					}
				}
				return nil
			}
			if !o.NoInject {
				t, err := g.configTarget(p)
				if err != nil {
					return err
				}
				if t != nil {
					defer t.Close()
				}
				if _, err := deploy.Inject(progress.WithSink(cmd.Context(), g.newRenderer()), t, p); err != nil {
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
	f.StringVar(&o.Format, "format", "yaml", "output format: yaml, json, or kubernetes (the objects the project maps to)")
	f.BoolVar(&o.Services, "services", false, "print the service names, one per line, dependencies first")
	f.BoolVar(&o.Images, "images", false, "print the image of each service, one per line")
	f.BoolVar(&o.Hash, "hash", false, "print each service's configuration hash, as on its containers' io.stack.config-hash label")
	f.BoolVar(&o.NoInject, "no-inject", false, "leave out the injected addresses (see `stack env`)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"yaml", "json", formatKubernetes}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// printHashes prints `service hash` per service, as `docker compose config
// --hash` does, with the hash `stack up` would put on the containers: over
// the configuration after address injection and the image ID. Nothing is
// built or pulled: an image not on the engine yet is hashed as unknown, and a
// warning says the hash will change once it is there.
func (g *Globals) printHashes(ctx context.Context, p *manifest.Project) error {
	t, err := g.target(p)
	if err != nil {
		return err
	}
	defer t.Close()
	images, err := t.Prepare(progress.WithSink(ctx, g.newRenderer()), p, nil, image.EnsureOptions{DryRun: true})
	if err != nil {
		return err
	}
	for _, name := range p.ServiceNames() {
		h, err := engine.ServiceHash(p.Project, p.Project.Services[name], images[name])
		if err != nil {
			return err
		}
		if images[name].ID == "" {
			fmt.Fprintf(g.Stderr, "stack: warning: image %s of service %q is not on the engine yet: its hash will change once it is built or pulled\n", p.ImageName(name), name)
		}
		if _, err := fmt.Fprintf(g.Stdout, "%s %s\n", name, h.Sum); err != nil {
			return err
		}
	}
	return nil
}
