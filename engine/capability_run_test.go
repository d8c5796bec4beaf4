package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestRefuseRun: the first refused flag set is named, with the
// orchestrator and what to do instead; none set refuses nothing.
func TestRefuseRun(t *testing.T) {
	refusals := []RunRefusal{{Flag: "-i", Why: "no stdin"}, {Flag: "-p", Set: true, Why: "publish with ports"}, {Flag: "-v", Set: true, Why: "later"}}
	err := RefuseRun("swarm", refusals)
	if !errors.Is(err, ErrUnsupported) || err.Error() != "stack run -p: not supported by the swarm orchestrator: publish with ports" {
		t.Errorf("got %v", err)
	}
	if err := RefuseRun("swarm", refusals[:1]); err != nil {
		t.Errorf("nothing set: got %v", err)
	}
	if strings.Contains(RefuseRun("kubernetes", refusals[2:]).Error(), "-p") {
		t.Error("named a flag not set")
	}
}

// TestRunCapabilities: the command line wins over the manifest, which is
// not changed.
func TestRunCapabilities(t *testing.T) {
	add, drop := []string{"CHOWN"}, []string{"NET_ADMIN"}
	a, d := RunOptions{CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"CHOWN", "MKNOD"}}.Capabilities(add, drop)
	if strings.Join(a, ",") != "NET_ADMIN" || strings.Join(d, ",") != "CHOWN,MKNOD" {
		t.Errorf("add %v drop %v", a, d)
	}
	if add[0] != "CHOWN" || drop[0] != "NET_ADMIN" {
		t.Errorf("the manifest's lists changed: %v %v", add, drop)
	}
}
