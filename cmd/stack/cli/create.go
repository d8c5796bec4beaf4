package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newCreateCommand) }

func newCreateCommand(g *Globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "create [SERVICE...]",
		Short: "Create the services' containers as up would, without starting them",
		Long: "Build and pull what up would, create the networks and volumes, and create (or replace)\n" +
			"the containers whose configuration changed, without starting any: `stack start` or\n" +
			"`stack up` starts them. Containers that exist and did not change are left as they are.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			o.Services = args
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx, "")
			if err != nil {
				return err
			}
			defer t.Close()
			// As up: under the deploy lock when it changes something.
			ctx, plan, unlock, err := g.planUnderLock(ctx, cmd, t, p, args, deploy.Options{Diff: o.DiffOptions, Images: o.images()})
			if err != nil {
				return err
			}
			defer unlock(&err)
			createOnly(plan)
			return engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{})
		},
	}
	lockFlag(cmd)
	o.flags(cmd)
	return cmd
}

// createOnly takes out of plan's operations every start, unpause, restart
// and wait, each operation that needed one needing instead what it needed:
// what is left creates, replaces (the old container stopped and removed)
// and removes, and starts nothing. An action left with no operation (a
// container to start) is unchanged.
//
// The plan is up's, cut after the fact: a pure change of the graph that
// works for any driver's operations, where a create mode in every driver's
// Operations would repeat it in each.
func createOnly(plan *engine.Plan) {
	byID := map[string]*engine.Op{}
	for _, op := range plan.Graph.Ops {
		byID[op.ID] = op
	}
	drop := func(op *engine.Op) bool {
		switch op.Kind {
		case engine.OpStart, engine.OpUnpause, engine.OpRestart, engine.OpWait:
			return true
		}
		return false
	}
	// through gives what stands for id once the dropped ops are gone: id
	// itself, or (for a dropped one) what it needed, in turn. The graph
	// has no cycle: Operations checked it.
	memo := map[string][]string{}
	var through func(id string) []string
	through = func(id string) []string {
		op := byID[id]
		if !drop(op) {
			return []string{id}
		}
		if m, ok := memo[id]; ok {
			return m
		}
		var out []string
		for _, n := range op.Needs {
			out = union(out, through(n))
		}
		memo[id] = out
		return out
	}
	kept := plan.Graph.Ops[:0]
	left := map[string]bool{}
	for _, op := range plan.Graph.Ops {
		if drop(op) {
			continue
		}
		var needs, required, optional []string
		for _, n := range op.Needs {
			ids := through(n)
			needs = union(needs, ids)
			if slices.Contains(op.Optional, n) {
				optional = union(optional, ids)
			} else {
				required = union(required, ids)
			}
		}
		op.Needs, op.Optional = needs, slices.DeleteFunc(optional, func(id string) bool { return slices.Contains(required, id) })
		kept = append(kept, op)
		left[op.Action] = true
	}
	plan.Graph.Ops = kept
	for _, a := range plan.Actions {
		if a.Type() == "service" && !left[a.Resource] && a.Kind != engine.Unchanged {
			a.Kind, a.Reason = engine.Unchanged, "exists; create starts nothing"
		}
	}
}

// union appends to a the strings of b it does not hold.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
