package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

type buildOptions struct {
	Force   bool
	NoCache bool
}

func init() { register(newBuildCommand) }

func newBuildCommand(g *Globals) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [SERVICE...]",
		Short: "Build the images of services that have a build section",
		Long: "Build the images of the named services (default: every service with a build section)\n" +
			"through the engine, in parallel, each after the services whose images its FROM lines\n" +
			"name. A build whose inputs (context after .dockerignore, Dockerfile, args, target, ...)\n" +
			"did not change since the image was built is skipped and reported up to date.",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			services, err := servicesByBuild(p, args, true,
				"has no build section: nothing to build; name services that have a build section")
			if err != nil || len(services) == 0 {
				return err
			}
			b, err := g.builder(p)
			if err != nil {
				return err
			}
			policy := image.BuildAuto
			if o.Force {
				policy = image.BuildAlways
			}
			r := g.newRenderer()
			_, err = b.Ensure(progress.WithSink(cmd.Context(), r), p, services, image.EnsureOptions{Build: policy, NoCache: o.NoCache})
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Force, "force", false, "build even when the inputs did not change")
	f.BoolVar(&o.NoCache, "no-cache", false, "do not use the engine's build cache (implies --force)")
	return cmd
}

// servicesByBuild returns the named services, or when none are named every
// service that has (built) or has not (!built) a build section; a named
// service on the other side is an error saying why.
func servicesByBuild(p *manifest.Project, names []string, built bool, why string) ([]string, error) {
	if len(names) == 0 {
		for _, name := range p.ServiceNames() {
			if (p.Project.Services[name].Build != nil) == built {
				names = append(names, name)
			}
		}
		return names, nil
	}
	for _, name := range names {
		if s, ok := p.Project.Services[name]; ok && (s.Build != nil) != built {
			return nil, fmt.Errorf("%s: service %q %s", strings.Join(p.ComposeFiles, ", "), name, why)
		}
	}
	return names, nil
}
