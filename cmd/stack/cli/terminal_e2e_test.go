package cli_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// terminal is a tmux server of the test's own (-L), running one command on
// a terminal: the attach and foreground tests type into it and read its
// screen.
type terminal struct {
	tmux, socket string
}

// onTerminal runs argv (stack's binary when argv[0] is "stack") in dir with
// env on a new terminal; its server goes when the test ends.
func onTerminal(t *testing.T, dir string, env []string, argv ...string) terminal {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("driving a terminal needs tmux (apt-get install -y tmux): %v", err)
	}
	if argv[0] == "stack" {
		argv[0] = e2e.Binary(t)
	}
	term := terminal{tmux: tmux, socket: fmt.Sprintf("stack-term-%d", time.Now().UnixNano())}
	// remain-on-exit keeps the pane, and what the command printed last,
	// once it exits; the exit status is printed after it.
	line := fmt.Sprintf("cd %q && env", dir)
	for _, kv := range env {
		line += fmt.Sprintf(" %q", kv)
	}
	for _, a := range argv {
		line += fmt.Sprintf(" %q", a)
	}
	line += `; echo "[exit $?]"; sleep 600`
	if out, err := exec.Command(tmux, "-L", term.socket, "new-session", "-d", "-x", "200", "-y", "50", line).CombinedOutput(); err != nil {
		t.Fatalf("starting a terminal: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tmux, "-L", term.socket, "kill-server").Run() })
	return term
}

// keys types keys (tmux's names: Enter, C-c, C-p ...).
func (term terminal) keys(t *testing.T, keys ...string) {
	t.Helper()
	if out, err := exec.Command(term.tmux, append([]string{"-L", term.socket, "send-keys", "-t", "0"}, keys...)...).CombinedOutput(); err != nil {
		t.Fatalf("typing %v: %v\n%s", keys, err, out)
	}
}

// capture returns the screen and its history.
func (term terminal) capture(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(term.tmux, "-L", term.socket, "capture-pane", "-p", "-S", "-200", "-t", "0").Output()
	if err != nil {
		t.Fatalf("reading the terminal: %v", err)
	}
	return string(out)
}

// waitFor polls the screen until it holds want, for up to d.
func (term terminal) waitFor(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out := term.capture(t)
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the terminal does not show %q:\n%s", d, want, out)
		}
		time.Sleep(100 * time.Millisecond) // the screen is what is polled
	}
}
