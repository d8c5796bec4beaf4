package cli

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
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
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			base := progress.WithSink(cmd.Context(), g.newRenderer())
			ctx, p, t, obs, unlock, err := g.observe(base, cmd, args...)
			if err != nil {
				return err
			}
			defer t.Close()
			defer func() { unlock(&err) }()
			for _, a := range args {
				if err := knownService(p, a); err != nil {
					return err
				}
			}
			if o.Stop {
				plan, err := engine.StopServices(p, nil, obs, args)
				if err != nil {
					return err
				}
				if err := engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{}); err != nil {
					return err
				}
			}
			stopped := func(ctx context.Context) ([]engine.Container, error) {
				rows, err := listContainers(ctx, t, p, "rm")
				if err != nil {
					return nil, err
				}
				return selection{Services: args, Keep: func(s engine.Status) bool { return !running(s) }}.pick(p, rows), nil
			}
			cs, err := stopped(ctx)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				fmt.Fprintln(g.Stderr, "No stopped containers")
				return nil
			}
			names := make([]string, len(cs))
			for i, c := range cs {
				names[i] = c.Name
			}
			msg := "Going to remove " + strings.Join(names, ", ")
			if !o.Force {
				// Nobody's deploy waits while a person answers: the lock is
				// taken again after, and of what they confirmed, what is
				// still stopped is removed.
				if unlock(&err); err != nil {
					return err
				}
				fmt.Fprintf(g.Stderr, "%s. Are you sure? [y/N] ", msg)
				answer, _ := bufio.NewReader(g.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					fmt.Fprintln(g.Stderr, "\nNothing removed (-f removes without asking)")
					return nil
				}
				if ctx, unlock, err = g.hold(base, cmd, t, p.Name, args...); err != nil {
					unlock = func(*error) {}
					return err
				}
				now, err := stopped(ctx)
				if err != nil {
					return err
				}
				cs = slices.DeleteFunc(now, func(c engine.Container) bool { return !slices.Contains(names, c.Name) })
			} else {
				fmt.Fprintln(g.Stderr, msg)
			}
			r, err := engine.Capability[engine.Remover](t.Driver, "rm")
			if err != nil {
				return err
			}
			return r.Remove(ctx, p.Name, cs, o.Volumes)
		},
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Force, "force", "f", false, "do not ask for confirmation")
	f.BoolVarP(&o.Stop, "stop", "s", false, "stop the containers first, if they run")
	f.BoolVarP(&o.Volumes, "volumes", "v", false, "remove the anonymous volumes the containers mount")
	return cmd
}
