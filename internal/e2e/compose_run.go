package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ComposeProject runs the reference Docker Compose on the compose files of
// a directory under a project name of its own, and takes the project down
// (volumes included) when the test ends.
type ComposeProject struct {
	Dir, Name string
	Env       []string
	// Files are the compose files (-f), in order; none: Compose's own
	// discovery in Dir.
	Files []string
}

// NewComposeProject returns a Compose project in dir with a unique name.
func NewComposeProject(t testing.TB, dir string) ComposeProject {
	t.Helper()
	c := ComposeProject{Dir: dir, Name: uniqueName(t) + "dc"}
	t.Cleanup(func() { c.Run(t, "down", "-v", "--remove-orphans", "-t", "0") })
	return c
}

// Run runs `docker compose -p NAME args...` and returns its output (stdout
// and stderr apart) and exit status; it fails the test only when Compose
// cannot be started.
func (c ComposeProject) Run(t testing.TB, args ...string) Result {
	t.Helper()
	dc := Compose(t)
	full := append(dc[1:len(dc):len(dc)], "-p", c.Name)
	for _, f := range c.Files {
		full = append(full, "-f", f)
	}
	cmd := exec.Command(dc[0], append(full, args...)...)
	cmd.Dir, cmd.Env = c.Dir, append(os.Environ(), c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running docker compose %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ docker compose %s  (exit %d)\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// MustRun is Run that fails the test unless Compose exits 0.
func (c ComposeProject) MustRun(t testing.TB, args ...string) Result {
	t.Helper()
	r := c.Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("docker compose %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}
