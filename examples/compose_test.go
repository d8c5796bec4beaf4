package examples_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// newCompose returns the reference Docker Compose on project (the `docker
// compose` plugin CI installs), to compare what stack prints with what it
// prints, failing the test when it does not answer (the comparison is the
// point), and takes the project down, its volumes too, when the test ends.
func newCompose(t *testing.T, dir, project string, env []string, files ...string) e2e.ComposeProject {
	t.Helper()
	c := e2e.ComposeProject{Dir: dir, Name: project, Env: env, Files: files}
	t.Cleanup(func() { c.Run(t, "down", "-v", "--remove-orphans") })
	return c
}

// table splits a printed table into its header and rows, at the gaps of
// two spaces or more between columns; it stops at the first blank line.
func table(out string) (header []string, rows [][]string) {
	gap := regexp.MustCompile(`\s{2,}`)
	for i, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			break
		}
		cells := gap.Split(strings.TrimSpace(l), -1)
		if i == 0 {
			header = cells
		} else {
			rows = append(rows, cells)
		}
	}
	return header, rows
}

// row returns the row of rows whose column col is value.
func row(t *testing.T, rows [][]string, col int, value string) []string {
	t.Helper()
	for _, r := range rows {
		if col < len(r) && r[col] == value {
			return r
		}
	}
	t.Fatalf("no row with %q in column %d of %q", value, col, rows)
	return nil
}

func sameColumns(t *testing.T, verb string, stack, compose []string) {
	t.Helper()
	if strings.Join(stack, "|") != strings.Join(compose, "|") {
		t.Errorf("%s: columns %q, Compose's %q", verb, stack, compose)
	}
}

// started is a stack process running in the background.
type started struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan int
}

func startStack(t *testing.T, stack e2e.Cmd, args ...string) *started {
	t.Helper()
	cmd := exec.Command(e2e.Binary(t), args...)
	cmd.Dir = stack.Dir
	cmd.Env = append(append(os.Environ(), "CI=true"), stack.Env...)
	s := &started{cmd: cmd, out: &lockedBuffer{}, done: make(chan int, 1)}
	cmd.Stdout = s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		s.done <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return s
}

// end waits for the process to exit by itself, within limit.
func (s *started) end(t *testing.T, limit time.Duration) (int, string) {
	t.Helper()
	select {
	case code := <-s.done:
		return code, s.out.String()
	case <-time.After(limit):
		t.Fatalf("stack %s still runs after %s", strings.Join(s.cmd.Args[1:], " "), limit)
		return 0, ""
	}
}

// stop interrupts it, as Ctrl-C does, and waits for it to exit 0.
func (s *started) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	if code, _ := s.end(t, 30*time.Second); code != 0 {
		t.Errorf("stack %s: exit %d on Ctrl-C, want 0", strings.Join(s.cmd.Args[1:], " "), code)
	}
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
}

func sameKeys(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
