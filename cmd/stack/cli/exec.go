package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

type execOptions struct {
	engine.ExecOptions
	Env     []string
	NoStdin bool
}

func init() { register(newExecCommand) }

func newExecCommand(g *Globals) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] SERVICE COMMAND [ARGS...]",
		Short: "Run a command in a service's running container",
		Long: "Run COMMAND in the running container of SERVICE (--index picks a replica), with standard\n" +
			"input attached and the output streamed; the command's exit code becomes stack's.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			if err := knownService(p, args[0]); err != nil {
				return err
			}
			o.Service, o.Command = args[0], command(args[1:])
			if len(o.Command) == 0 {
				return fmt.Errorf("exec %s: give the command to run", o.Service)
			}
			o.ExecOptions.Env = envVars(o.Env)
			o.Stdout, o.Stderr = g.Stdout, g.Stderr
			if !o.NoStdin {
				o.Stdin = g.Stdin
			}
			t, err := g.target(p)
			if err != nil {
				return err
			}
			defer t.Close()
			x, err := engine.Capability[engine.Execer](t.Driver, "exec")
			if err != nil {
				return err
			}
			code, err := x.Exec(ctx, p.Name, o.ExecOptions)
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
	f.IntVar(&o.Index, "index", 1, "the replica to run in, when the service has several")
	f.StringArrayVarP(&o.Env, "env-var", "e", nil, "set an environment variable (KEY=VALUE, or KEY to take it from here)")
	f.StringVarP(&o.User, "user", "u", "", "run as this user")
	f.StringVarP(&o.WorkingDir, "workdir", "w", "", "run in this directory")
	f.BoolVar(&o.Privileged, "privileged", false, "give the command extended privileges")
	f.BoolVarP(&o.NoStdin, "no-TTY", "T", false, "do not attach standard input (stack never allocates a terminal)")
	return cmd
}
