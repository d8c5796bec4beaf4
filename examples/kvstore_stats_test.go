package examples_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// statsLive drives `stack stats` on a terminal (tmux's): redis limited to
// 64 MiB and filled to over 90% of it (tmpfs pages count as its memory),
// the tables must be redrawn in place each second (one header on the
// screen, the clock moving), both services shown using memory, and redis
// marked near its limit.
func statsLive(t *testing.T, stack e2e.Cmd, project string) {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("driving stack stats on a terminal needs tmux (apt-get install -y tmux): %v", err)
	}
	limits := filepath.Join(t.TempDir(), "limits.yaml")
	e2e.WriteFiles(t, filepath.Dir(limits), map[string]string{filepath.Base(limits): "services:\n  redis:\n    mem_limit: 64m\n"})
	files := []string{"-f", "compose.yaml", "-f", limits}
	stack.MustRun(t, append(files, "up")...)
	stack.MustRun(t, append(files, "exec", "-T", "redis", "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=56")...)

	// A server of its own (-L), so that no one else's tmux is touched.
	socket := "stack-stats-" + project
	line := fmt.Sprintf("cd %q && exec env", stack.Dir)
	for _, kv := range stack.Env {
		line += fmt.Sprintf(" %q", kv)
	}
	line += fmt.Sprintf(" %q %s stats", e2e.Binary(t), strings.Join(quoteAll(files), " "))
	if out, err := exec.Command(tmux, "-L", socket, "new-session", "-d", "-x", "250", "-y", "50", line).CombinedOutput(); err != nil {
		t.Fatalf("starting stack stats in tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tmux, "-L", socket, "kill-server").Run() })

	clock := regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d)  every second`)
	seen := map[string]bool{}
	var screen string
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(tmux, "-L", socket, "capture-pane", "-p").Output()
		if err != nil {
			t.Fatalf("reading the terminal: %v", err)
		}
		screen = string(out)
		if m := clock.FindStringSubmatch(screen); m != nil {
			seen[m[1]] = true
		}
		if len(seen) >= 3 && liveStatsReady(screen, project) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s, %d redraws; the terminal shows:\n%s", len(seen), screen)
		}
		time.Sleep(200 * time.Millisecond) // the terminal's refresh is what is polled
	}
	t.Logf("the terminal after %d redraws:\n%s", len(seen), screen)
	if n := strings.Count(screen, "CONTAINER ID"); n != 1 {
		t.Errorf("after %d redraws the terminal shows the containers' header %d times, want once (redrawn in place):\n%s", len(seen), n, screen)
	}
}

// liveStatsReady reports whether screen shows both services using memory,
// redis near its limit and web not.
func liveStatsReady(screen, project string) bool {
	i := strings.Index(screen, "\nSERVICE ")
	if i < 0 {
		return false
	}
	_, rows := table(screen[i+1:])
	ok := 0
	for _, r := range rows {
		if len(r) < 7 || strings.HasPrefix(r[5], "0B ") {
			continue
		}
		switch {
		case r[0] == "redis" && strings.HasSuffix(r[6], "near limit"):
			ok++
		case r[0] == "web" && !strings.HasSuffix(r[6], "near limit"):
			ok++
		}
	}
	return ok == 2 && strings.Contains(screen, project+"-redis-1")
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = fmt.Sprintf("%q", a)
	}
	return out
}
