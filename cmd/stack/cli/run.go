package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/progress"
)

type runOptions struct {
	docker.RunOptions
	NoDeps bool
	Env    []string
}

func init() { register(newRunCommand) }

func newRunCommand(g *Globals) *cobra.Command {
	var (
		o          runOptions
		entrypoint string
	)
	cmd := &cobra.Command{
		Use:   "run [flags] SERVICE [COMMAND] [ARGS...]",
		Short: "Run a one-off command in a new container of a service",
		Long: "Start the service's dependencies (unless --no-deps), then run a new container of the\n" +
			"service with the injected addresses, COMMAND replacing its command. Its output is\n" +
			"streamed, its standard input attached with -i, and its exit code becomes stack's.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := g.newRenderer()
			ctx := progress.WithSink(cmd.Context(), r)
			p, err := g.LoadProject(ctx)
			if err != nil {
				r.Close()
				return err
			}
			o.Service, o.Command = args[0], args[1:]
			if len(o.Command) > 0 && o.Command[0] == "--" {
				o.Command = o.Command[1:] // stack run cli -- --help
			}
			if _, ok := p.Project.Services[o.Service]; !ok {
				r.Close()
				return fmt.Errorf("no such service: %q (services: %s)", o.Service, strings.Join(p.ServiceNames(), ", "))
			}
			if cmd.Flags().Changed("entrypoint") {
				o.RunOptions.Entrypoint = strings.Fields(entrypoint)
			}
			for _, kv := range o.Env {
				if !strings.Contains(kv, "=") {
					kv += "=" + os.Getenv(kv) // -e KEY takes KEY from stack's environment, as docker does
				}
				o.RunOptions.Env = append(o.RunOptions.Env, kv)
			}
			services := []string{o.Service}
			if !o.NoDeps {
				if services, err = engine.SelectServices(p, services, false); err != nil {
					r.Close()
					return err
				}
			}
			d, images, err := g.prepare(ctx, p, services, image.EnsureOptions{})
			if err == nil {
				// The dependencies, and the networks and volumes the one-off
				// uses, converge as `stack up SERVICE` would; the service's own
				// containers are left as they are.
				var dep *deployment
				if dep, err = diff(ctx, d, p, images, engine.DiffOptions{Services: []string{o.Service}, NoDeps: o.NoDeps}); err == nil {
					dep.plan.Actions = slices.DeleteFunc(dep.plan.Actions, func(a *engine.Action) bool { return a.Resource == "service:"+o.Service })
					err = engine.Apply(ctx, d, dep.plan, engine.ApplyOptions{})
				}
			}
			r.Close()
			if err != nil {
				return err
			}
			o.Stdin, o.Stdout, o.Stderr = g.Stdin, g.Stdout, g.Stderr
			code, err := d.Run(cmd.Context(), p, o.RunOptions)
			if err != nil {
				return err
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	// Everything after SERVICE belongs to the command, flags included.
	f.SetInterspersed(false)
	f.BoolVar(&o.Remove, "rm", false, "remove the container when it exits")
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "attach standard input")
	// -e as docker run has it; the long --env selects the stack environment,
	// as for every verb.
	f.StringArrayVarP(&o.Env, "env-var", "e", nil, "set an environment variable (KEY=VALUE, or KEY to take it from here)")
	f.BoolVar(&o.NoDeps, "no-deps", false, "do not start the service's dependencies")
	f.BoolVar(&o.ServicePorts, "service-ports", false, "publish the service's ports")
	f.StringVar(&entrypoint, "entrypoint", "", "replace the image's entrypoint")
	return cmd
}
