package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newKillCommand) }

func newKillCommand(g *Globals) *cobra.Command {
	var (
		signal  string
		orphans bool
	)
	cmd := &cobra.Command{
		Use:   "kill [SERVICE...]",
		Short: "Send a signal (SIGKILL unless -s) to the services' running containers",
		Long: "Send a signal to the running containers of the services (all when none), one-off\n" +
			"containers included, all at once. The containers stop unless the signal is one they\n" +
			"handle; restart policies apply as to any exit.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, rows, err := g.projectContainers(ctx, "kill", args)
			if err != nil {
				return err
			}
			defer t.Close()
			cs := selection{Services: args, Orphans: orphans, OneOffs: true, Keep: running}.pick(p, rows)
			if len(cs) == 0 {
				fmt.Fprintln(g.Stderr, "No container to kill")
				return nil
			}
			k, err := engine.Capability[engine.Killer](t.Driver, "kill")
			if err != nil {
				return err
			}
			return k.Kill(ctx, cs, signal)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "SIGKILL", "the signal to send: a name (SIGTERM, TERM) or a number")
	cmd.Flags().BoolVar(&orphans, "remove-orphans", false, "also kill the containers of services no longer in the manifest (Compose's name)")
	return cmd
}
