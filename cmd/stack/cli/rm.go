package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/progress"
)

type rmOptions struct {
	Force   bool
	Stop    bool
	Volumes bool
}

func init() { register(newRmCommand) }

func newRmCommand(g *Globals) *cobra.Command {
	var o rmOptions
	cmd := &cobra.Command{
		Use:   "rm [SERVICE...]",
		Short: "Remove the services' stopped containers",
		Long: "Remove the stopped containers of the services (all when none), after asking unless -f;\n" +
			"with -s, stop the running ones first (dependants first, as stop does). Anonymous volumes\n" +
			"stay unless -v; named volumes always stay. The last lines of each container are kept for\n" +
			"`stack logs --previous`.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			for _, a := range args {
				if err := knownService(p, a); err != nil {
					return err
				}
			}
			asked := false
			ro := deploy.RemoveOptions{Services: args, Stop: o.Stop, Volumes: o.Volumes,
				Announce: func(names []string) { fmt.Fprintln(g.Stderr, "Going to remove "+strings.Join(names, ", ")) }}
			if !o.Force {
				ro.Confirm = func(names []string) (bool, error) { asked = true; return g.confirmRemove(names) }
			}
			if ro.Lock, err = g.lockOptions(cmd, args...); err != nil {
				return err
			}
			names, err := t.Remove(ctx, p, ro)
			if err == nil && len(names) == 0 && !asked {
				fmt.Fprintln(g.Stderr, "No stopped containers")
			}
			return err
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Force, "force", "f", false, "do not ask for confirmation")
	f.BoolVarP(&o.Stop, "stop", "s", false, "stop the containers first, if they run")
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the anonymous volumes the containers mount")
	return cmd
}

// confirmRemove asks whether to remove the containers named: yes or y.
func (g *Globals) confirmRemove(names []string) (bool, error) {
	fmt.Fprintf(g.Stderr, "Going to remove %s. Are you sure? [y/N] ", strings.Join(names, ", "))
	answer, _ := bufio.NewReader(g.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		fmt.Fprintln(g.Stderr, "\nNothing removed (-f removes without asking)")
		return false, nil
	}
	return true, nil
}
