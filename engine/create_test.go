package engine

import (
	"strings"
	"testing"
)

func TestWithoutStartsStartsNothing(t *testing.T) {
	op := func(kind OpKind, target, action string, needs ...string) *Op {
		return &Op{ID: string(kind) + " " + target, Kind: kind, Target: target, Action: action, Needs: needs}
	}
	g := &Graph{Ops: []*Op{
		// web, added first, waits for db to be healthy; db replaces its
		// container.
		op(OpCreate, "container:web", "service:web", "create network:n"),
		op(OpStart, "container:web", "service:web", "create container:web", "wait container:db-tmp"),
		op(OpCreate, "network:n", "network:n"),
		op(OpCreate, "container:db-tmp", "service:db", "create network:n"),
		op(OpStop, "container:db", "service:db", "create container:db-tmp"),
		op(OpStart, "container:db-tmp", "service:db", "stop container:db"),
		op(OpWait, "container:db-tmp", "service:db", "start container:db-tmp"),
		op(OpRemove, "container:db", "service:db", "wait container:db-tmp"),
		op(OpRename, "container:db-tmp", "service:db", "remove container:db"),
		op(OpStart, "container:cache", "service:cache"),
	}}
	plan := &Plan{Graph: g, Actions: []*Action{
		{Resource: "network:n", Kind: Create}, {Resource: "service:web", Kind: Create},
		{Resource: "service:db", Kind: Recreate}, {Resource: "service:cache", Kind: Start},
	}}
	WithoutStarts(plan)
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range g.Ops {
		got = append(got, op.ID+" <- "+strings.Join(op.Needs, ", "))
	}
	want := []string{
		"create container:web <- create network:n",
		"create network:n <- ",
		"create container:db-tmp <- create network:n",
		"stop container:db <- create container:db-tmp",
		"remove container:db <- stop container:db",
		"rename container:db-tmp <- remove container:db",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := plan.Action("service:cache"); a.Kind != Unchanged {
		t.Errorf("cache, with nothing to create: %s, want unchanged", a.Kind)
	}
}
