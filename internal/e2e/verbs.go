package e2e

import (
	"strings"
	"testing"
)

// RefusesOneEngineVerbs runs, with stack, the verbs that act on one
// engine's container (attach, export, commit), watch's sync, a foreground
// up and run's --use-aliases, and checks that each exits 1 saying the orchestrator
// cannot, without converging first: web was scaled to 2 beyond its
// manifest's 1, and no "scale 2 -> 1" may show.
func RefusesOneEngineVerbs(t testing.TB, stack Cmd, orchestrator string) {
	t.Helper()
	for _, args := range [][]string{
		{"attach", "web"},
		{"export", "web", "-o", stack.Dir + "/web.tar"},
		{"commit", "web", "stack-e2e-never:1"},
		{"watch"},
		{"up", "--abort-on-container-exit"},
		{"up", "--watch"},
		{"run", "--use-aliases", "web", "true"},
	} {
		r := stack.Run(t, args...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "not supported by the "+orchestrator+" orchestrator") {
			t.Errorf("stack %s: exit %d, want 1 saying the %s orchestrator cannot:\n%s", strings.Join(args, " "), r.Code, orchestrator, r.Stderr)
		}
		if strings.Contains(r.Stdout+r.Stderr, "scale 2 -> 1") {
			t.Errorf("stack %s converged before it refused:\n%s%s", strings.Join(args, " "), r.Stdout, r.Stderr)
		}
	}
}
