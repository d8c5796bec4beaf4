package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newWaitCommand) }

func newWaitCommand(g *Globals) *cobra.Command {
	var downProject bool
	cmd := &cobra.Command{
		Use:   "wait SERVICE [SERVICE...]",
		Short: "Wait until the services' containers stop; exit with the code of the first to stop",
		Long: "Block until every running container of the services (one-offs included) has stopped,\n" +
			"printing each exit code as it does, then exit with the exit code of the first one that\n" +
			"stopped. Containers that have already stopped count at once. --down-project then takes\n" +
			"the project down, as `stack down --remove-orphans` does.",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, rows, err := g.projectContainers(ctx, "wait", args)
			if err != nil {
				return err
			}
			defer t.Close()
			sel := selection{Services: args, OneOffs: true, Keep: running}
			cs := sel.pick(p, rows)
			if len(cs) == 0 {
				// None runs: those that stopped already answer at once.
				sel.Keep = nil
				cs = sel.pick(p, rows)
			}
			if len(cs) == 0 {
				return fmt.Errorf("services %q have no container: start them with `stack up`", args)
			}
			w, err := engine.Capability[engine.Waiter](t.Driver, "wait")
			if err != nil {
				return err
			}
			first := -1
			err = w.Wait(ctx, cs, func(c engine.Container, code int) {
				fmt.Fprintf(g.Stdout, "container %q exited with status code %d\n", c.Name, code)
				if first < 0 {
					first = code
				}
			})
			if err != nil {
				return err
			}
			if downProject {
				obs, err := t.Driver.Observe(ctx, p)
				if err != nil {
					return err
				}
				plan := engine.Down(p, obs, engine.DownOptions{RemoveOrphans: true})
				if err := engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{}); err != nil {
					return err
				}
			}
			if first != 0 {
				return &ExitError{Code: first}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&downProject, "down-project", false, "take the project down once the containers have stopped")
	return cmd
}
