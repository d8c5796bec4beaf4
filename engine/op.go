package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stack-deploy/stack/internal/dag"
)

// OpKind is the engine call an operation makes.
type OpKind string

// The operations drivers plan. A driver uses those its engine has; Wait is
// the only one the walker treats apart: it waits rather than works, so it
// does not count against the parallel bound.
const (
	OpCreate     OpKind = "create"     // a network, volume, container or service
	OpConnect    OpKind = "connect"    // a container to a network
	OpCopy       OpKind = "copy"       // files into a created container: its secrets and configs
	OpDisconnect OpKind = "disconnect" // a container from a network
	OpStart      OpKind = "start"
	OpUnpause    OpKind = "unpause"
	OpRestart    OpKind = "restart"
	OpWait       OpKind = "wait" // until Condition holds
	OpStop       OpKind = "stop"
	OpRemove     OpKind = "remove"
	OpRename     OpKind = "rename"
	OpUpdate     OpKind = "update" // a Swarm service, in place
	OpRoute      OpKind = "route"  // the gateway's traffic to a service's containers
	OpCommit     OpKind = "commit" // no call: the point every step of an atomic deploy leads to
	OpRun        OpKind = "run"    // a one-off the deploy runs itself (a release step), not the driver
)

// Op is one engine call of a run: a node of the operation graph, with the
// operations it needs finished first. The per-resource Actions of a Plan
// are what users read; Ops are what the walker walks.
type Op struct {
	// ID is unique in the graph: "create container:shop-web-1".
	ID   string `json:"id"`
	Kind OpKind `json:"op"`
	// Target is what the call acts on: "container:shop-web-1",
	// "network:shop_default".
	Target string `json:"target"`
	// Action is the Plan action the op carries out: "service:web".
	Action string `json:"action"`
	// Detail is for people: "as shop-web-1-3f2a0c1b", "until healthy".
	Detail string `json:"detail,omitempty"`
	// Needs lists the IDs of the operations that must succeed first;
	// Optional those of them whose failure does not stop this one
	// (depends_on with required: false).
	Needs    []string `json:"needs,omitempty"`
	Optional []string `json:"optional,omitempty"`
	// Condition is what a Wait waits for.
	Condition Condition `json:"condition,omitempty"`
	// Txn groups the operations that succeed or are undone together: when
	// one fails (or is skipped), those not yet begun are skipped and the
	// Undo of each one that succeeded runs, the latest first. A replacement
	// is one: its old container runs again if the new one cannot.
	Txn string `json:"txn,omitempty"`
	// Undo reverses this operation (remove what it created, start what it
	// stopped); nil when there is nothing to reverse.
	Undo *Op `json:"undo,omitempty"`
	// Payload is the driver's data for making the call; the walker never
	// reads it.
	Payload any `json:"-"`
}

// Graph is the operations of one run.
type Graph struct {
	Ops []*Op `json:"operations"`
}

// Add appends op, its ID made from its kind and target when empty, and
// returns its ID.
func (g *Graph) Add(op *Op) string {
	if op.ID == "" {
		op.ID = string(op.Kind) + " " + op.Target
	}
	g.Ops = append(g.Ops, op)
	return op.ID
}

// Check reports a duplicate ID, a need that names no operation, or a cycle:
// a driver's bug, never the user's. It names each Undo after the operation
// it reverses.
func (g *Graph) Check() error {
	ids := make(map[string]bool, len(g.Ops))
	for _, op := range g.Ops {
		ids[op.ID] = true
		if u := op.Undo; u != nil {
			u.ID, u.Action = "undo "+op.ID, op.Action
		}
	}
	for _, op := range g.Ops {
		for _, n := range op.Needs {
			if !ids[n] {
				return fmt.Errorf("operation %q needs %q, which is not in the graph", op.ID, n)
			}
		}
	}
	return dag.Check(g.nodes())
}

func (g *Graph) nodes() []dag.Node {
	nodes := make([]dag.Node, len(g.Ops))
	for i, op := range g.Ops {
		nodes[i] = dag.Node{ID: op.ID, Needs: op.Needs, Optional: op.Optional, Unbounded: op.Kind == OpWait}
	}
	return nodes
}

// DOT renders the graph for Graphviz (`stack plan --graph | dot -Tsvg`): an
// operation a box, grouped by the action it carries out, an edge from each
// operation to what needs it.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n")
	byAction := map[string][]*Op{}
	var actions []string
	for _, op := range g.Ops {
		if _, ok := byAction[op.Action]; !ok {
			actions = append(actions, op.Action)
		}
		byAction[op.Action] = append(byAction[op.Action], op)
	}
	sort.Strings(actions)
	for i, a := range actions {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%q;\n", i, a)
		for _, op := range byAction[a] {
			label := string(op.Kind) + "\n" + op.Target
			if op.Detail != "" {
				label += "\n" + op.Detail
			}
			fmt.Fprintf(&b, "    %q [label=%q];\n", op.ID, label)
		}
		b.WriteString("  }\n")
	}
	for _, op := range g.Ops {
		for _, n := range op.Needs {
			style := ""
			for _, o := range op.Optional {
				if o == n {
					style = " [style=dashed]"
				}
			}
			fmt.Fprintf(&b, "  %q -> %q%s;\n", n, op.ID, style)
		}
	}
	b.WriteString("}\n")
	return b.String()
}
