package engine_test

import (
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/e2e"
)

// The e2e harness cleans up by the project label; it cannot import engine.
func TestHarnessLabel(t *testing.T) {
	if e2e.Label != engine.LabelProject {
		t.Fatalf("e2e.Label %q, engine.LabelProject %q", e2e.Label, engine.LabelProject)
	}
}
