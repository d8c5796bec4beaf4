package swarm

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// TestOperationsLeavingTheService: the plan of a first deploy's release
// phase (or stack run) converges what a service needs, the service itself
// left out: the manager calls create its network, from the desired spec.
func TestOperationsLeavingTheService(t *testing.T) {
	d, err := New(WithClient(&fakeClient{}))
	if err != nil {
		t.Fatal(err)
	}
	p := pinnedProject(t, "services:\n  app:\n    image: app:1\n", nil)
	images, err := d.ConfigHashes(p, engine.Images{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Diff(p, images, &engine.Observed{Driver: &Observed{}}, engine.DiffOptions{Services: []string{"app"}, Leave: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Graph, err = d.Operations(plan); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range plan.Graph.Ops {
		ops = append(ops, string(op.Kind)+" "+op.Target)
	}
	if got := strings.Join(ops, "; "); got != "create network:shop_default" {
		t.Errorf("operations: %q, want only the network's creation", got)
	}
}
