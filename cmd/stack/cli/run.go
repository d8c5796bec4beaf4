package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

type runOptions struct {
	engine.RunOptions
	NoDeps        bool
	Env           []string
	Build         bool
	Pull          string
	Quiet         bool
	RemoveOrphans bool
}

func init() { register(newRunCommand) }

func newRunCommand(g *Globals) *cobra.Command {
	var (
		o          runOptions
		r          runFlags
		entrypoint string
	)
	cmd := &cobra.Command{
		Use:   "run [flags] SERVICE [COMMAND] [ARGS...]",
		Short: "Run a one-off command in a new container of a service",
		Long: "Start the service's dependencies (unless --no-deps), then run a new container of the\n" +
			"service with the injected addresses, COMMAND replacing its command. Its output is\n" +
			"streamed, its standard input attached with -i, and its exit code becomes stack's.\n" +
			"With -d it is started in the background and its container ID printed, as Compose prints\n" +
			"it (a Job's name on Kubernetes): stack logs ID (or the container's name) follows\n" +
			"it, stack ps -a lists it, stack down removes it. stack never allocates a terminal for\n" +
			"a one-off (-T is accepted and is what it always does). On Swarm and Kubernetes the\n" +
			"flags that do not map to a task or a Job are refused by name before anything changes.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := r.parse(&o); err != nil {
				return err
			}
			sink := g.newRenderer()
			if o.Quiet {
				sink = &plainRenderer{w: io.Discard}
			}
			ctx := progress.WithSink(cmd.Context(), sink)
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			if err := knownService(p, args[0]); err != nil {
				return err
			}
			o.Service, o.Command = args[0], command(args[1:])
			if cmd.Flags().Changed("entrypoint") {
				o.RunOptions.Entrypoint = strings.Fields(entrypoint)
			}
			o.RunOptions.Env = envVars(o.Env)
			o.Stdin, o.Stdout, o.Stderr = g.Stdin, g.Stdout, g.Stderr
			o.Detached = func(ref string) { fmt.Fprintln(g.Stdout, ref) }
			ro := deploy.RunOptions{RunOptions: o.RunOptions, NoDeps: o.NoDeps, RemoveOrphans: o.RemoveOrphans}
			ro.Images.Pull = o.Pull
			if o.Build {
				ro.Images.Build = image.BuildAlways
			}
			if ro.Lock, err = g.lockOptions(cmd, o.Service); err != nil {
				return err
			}
			code, err := t.Run(ctx, p, ro)
			if err != nil {
				return err
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	// Everything after SERVICE belongs to the command, flags included.
	f.SetInterspersed(false)
	f.BoolVar(&o.Remove, "rm", false, "remove the container when it exits (with -d, the engine removes it)")
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "attach standard input")
	// -e as docker run has it; the long --env selects the stack environment,
	// as for every verb.
	f.StringArrayVarP(&o.Env, "env-var", "e", nil, "set an environment variable (KEY=VALUE, or KEY to take it from here)")
	f.BoolVar(&o.NoDeps, "no-deps", false, "do not start the service's dependencies")
	f.StringVar(&entrypoint, "entrypoint", "", "replace the image's entrypoint")
	r.add(cmd, &o)
	return cmd
}

// knownService checks that name is a service of p.
func knownService(p *manifest.Project, name string) error {
	if _, ok := p.Project.Services[name]; !ok {
		return fmt.Errorf("no such service: %q (services: %s)", name, strings.Join(p.ServiceNames(), ", "))
	}
	return nil
}

// command is what follows SERVICE, without the `--` that may separate it
// (`stack run cli -- --help`).
func command(args []string) []string {
	if len(args) > 0 && args[0] == "--" {
		return args[1:]
	}
	return args
}

// envVars turns -e entries into KEY=VALUE; a KEY alone takes its value from
// stack's own environment, as docker does.
func envVars(entries []string) []string {
	out := make([]string, 0, len(entries))
	for _, kv := range entries {
		if !strings.Contains(kv, "=") {
			kv += "=" + os.Getenv(kv)
		}
		out = append(out, kv)
	}
	return out
}
