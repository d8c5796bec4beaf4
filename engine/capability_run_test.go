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
