package cli_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAttachForwardsTerminalSize: `stack attach` on a terminal gives the
// container's terminal this one's size, and the new size whenever the
// window is resized (SIGWINCH), as docker attach does.
//
// Model: console, a shell on a terminal of its own (tty, stdin_open).
//
//	attach console on a terminal -> `stty size` in the container prints the terminal's rows and columns
//	resize the window            -> `stty size` prints the new ones
//	ctrl-p ctrl-q                -> detaches, exit 0
func TestAttachForwardsTerminalSize(t *testing.T) {
	stack := project(t, "services:\n  console:\n    image: busybox:stable\n    command: [sh]\n    stdin_open: true\n    tty: true\n    stop_signal: SIGKILL\n")
	stack.MustRun(t, "up", "-d")
	term := onTerminal(t, stack.Dir, stack.Env, "stack", "attach", "console")
	size := func() string {
		out, err := exec.Command(term.tmux, "-L", term.socket, "display-message", "-p", "-t", "0", "#{pane_height} #{pane_width}").Output()
		if err != nil {
			t.Fatalf("asking tmux the pane's size: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	// sttySize types `stty size` until the container prints want: the
	// attach may not be up when the first is typed.
	sttySize := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for i := 0; ; i++ {
			marker := fmt.Sprintf("size%d", i)
			term.keys(t, "echo "+marker+" $(stty size)", "Enter")
			time.Sleep(300 * time.Millisecond) // the screen is what is polled
			screen := term.capture(t)
			if strings.Contains(screen, marker+" "+want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the container's terminal is not %s (rows columns) after 30s:\n%s", want, screen)
			}
		}
	}
	sttySize(size())
	if out, err := exec.Command(term.tmux, "-L", term.socket, "resize-window", "-t", "0", "-x", "120", "-y", "30").CombinedOutput(); err != nil {
		t.Fatalf("resizing the window: %v\n%s", err, out)
	}
	resized := size()
	if resized != "30 120" && resized != "29 120" {
		t.Fatalf("tmux made the pane %q after resize-window 120x30", resized)
	}
	sttySize(resized)
	term.keys(t, "C-p", "C-q")
	term.waitFor(t, "[exit 0]", 20*time.Second)
}
