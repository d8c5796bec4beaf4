package cli_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// ciModel: a long-running web and a tests service that prints, then exits
// with code.
func ciModel(code int) string {
	return fmt.Sprintf(`
services:
  web:
    image: busybox:stable
    command: ["sh", "-c", "echo web up; exec sleep 3600"]
    stop_signal: SIGKILL
  tests:
    image: busybox:stable
    command: ["sh", "-c", "echo testing; sleep 1; echo done; exit %d"]
    depends_on: [web]
`, code)
}

// TestUpExitCodeFromE2E is the CI pattern beside Docker Compose: `up
// --exit-code-from tests` prints the services' output, stops everything when
// tests exits, and exits with tests' status.
//
//	up --exit-code-from tests (tests exits 3)   -> exit 3 as Compose's; "tests-1  | testing", "tests-1 exited with code 3"; web stopped
//	the same with tests exiting 0               -> exit 0 as Compose's; web stopped
//	up --attach tests --no-log-prefix --abort-on-container-exit -> tests' lines alone, unprefixed; exit 0
//	up --dry-run                                -> the plan printed, nothing created
//	up (stdin not a terminal)                   -> returns once ready, as up -d
func TestUpExitCodeFromE2E(t *testing.T) {
	for _, code := range []int{3, 0} {
		t.Run(fmt.Sprint("exit", code), func(t *testing.T) {
			stack := project(t, ciModel(code))
			dc := e2e.NewComposeProject(t, stack.Dir)
			name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")

			if out := stack.MustRun(t, "up", "--dry-run").Stdout; !strings.Contains(out, "service:tests") || !strings.Contains(out, "create") {
				t.Errorf("up --dry-run printed no plan:\n%s", out)
			}
			if ids := containerIDs(t, name); len(ids) != 0 {
				t.Fatalf("up --dry-run created containers: %v", ids)
			}

			r := stack.Run(t, "up", "--exit-code-from", "tests")
			want := dc.Run(t, "up", "--exit-code-from", "tests")
			if r.Code != code || want.Code != code {
				t.Errorf("up --exit-code-from tests: stack exit %d, Compose's %d; want %d", r.Code, want.Code, code)
			}
			// The prefixes are padded to the longest name seen so far: one
			// space before the bar stands for any number.
			pad := regexp.MustCompile(`-1 +\|`)
			got := pad.ReplaceAllString(r.Stdout, "-1 |")
			for _, line := range []string{"Attaching to ", "tests-1 | testing\n", "tests-1 | done\n", fmt.Sprintf("tests-1 exited with code %d\n", code), "web-1 | web up\n", "web-1 exited with code 137\n"} {
				if !strings.Contains(got, line) {
					t.Errorf("up --exit-code-from tests: no %q in its output:\n%s", line, r.Stdout)
				}
				if !strings.Contains(pad.ReplaceAllString(want.Stdout, "-1 |"), line) {
					t.Logf("(Compose's output has no %q)", line)
				}
			}
			if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", name+"-web-1"); st != "false" {
				t.Errorf("web after the tests exited: running=%s, want stopped", st)
			}

			r = stack.Run(t, "up", "--attach", "tests", "--no-log-prefix", "--abort-on-container-exit")
			if r.Code != code || !strings.HasPrefix(strings.SplitN(r.Stdout, "\n", 2)[1], "testing\ndone\n") || strings.Contains(r.Stdout, "web up") {
				t.Errorf("up --attach tests --no-log-prefix: exit %d, want %d; output:\n%s", r.Code, code, r.Stdout)
			}
		})
	}
	stack := project(t, ciModel(0))
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	stack.MustRun(t, "up")
	if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", name+"-web-1"); st != "true" {
		t.Errorf("up with stdin not a terminal: web running=%s, want it left running", st)
	}
}

// TestUpForegroundInterruptE2E: on a terminal `up` stays in the foreground,
// shows the services' lines, and the first Ctrl-C stops the project and
// exits 130, as Compose's.
func TestUpForegroundInterruptE2E(t *testing.T) {
	stack := project(t, ciModel(0))
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	term := onTerminal(t, stack.Dir, stack.Env, "stack", "up")
	term.waitFor(t, "| web up", 60*time.Second)
	term.waitFor(t, "tests-1 exited with code 0", 30*time.Second)
	term.keys(t, "C-c")
	screen := term.waitFor(t, "[exit 130]", 60*time.Second)
	if !strings.Contains(screen, "Gracefully stopping") {
		t.Errorf("no word of stopping on the terminal:\n%s", screen)
	}
	if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", name+"-web-1"); st != "false" {
		t.Errorf("web after Ctrl-C: running=%s, want stopped", st)
	}

	dc := e2e.NewComposeProject(t, stack.Dir)
	cterm := onTerminal(t, stack.Dir, nil, append(e2e.Compose(t), "-p", dc.Name, "up")...)
	cterm.waitFor(t, "web-1  | web up", 60*time.Second)
	cterm.keys(t, "C-c")
	// Compose 5.6.0 exits 0 after a Ctrl-C; stack exits 130, as a program
	// a signal ended does (and as the issue asks).
	cterm.waitFor(t, "[exit ", 60*time.Second)
	if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", dc.Name+"-web-1"); st != "false" {
		t.Errorf("Compose's web after Ctrl-C: running=%s, want stopped", st)
	}
}
