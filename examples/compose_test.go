package examples_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// compose runs the reference Docker Compose (the `docker compose` plugin CI
// installs) on a project, to compare what stack prints with what it prints.
type compose struct {
	dir     string
	project string
	files   []string
	env     []string
}

// newCompose checks that `docker compose` answers (failing the test when it
// does not: the comparison is the point) and takes the project down, its
// volumes too, when the test ends.
func newCompose(t *testing.T, dir, project string, env []string, files ...string) compose {
	t.Helper()
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
		t.Fatalf("these tests compare stack with Docker Compose, and `docker compose` does not answer "+
			"(install the plugin: go install github.com/docker/compose/v5/cmd@v5.6.0, copied to "+
			"~/.docker/cli-plugins/docker-compose): %v\n%s", err, out)
	}
	c := compose{dir: dir, project: project, files: files, env: env}
	t.Cleanup(func() { c.run(t, "down", "-v", "--remove-orphans") })
	return c
}

func (c compose) run(t *testing.T, args ...string) e2e.Result {
	t.Helper()
	full := []string{"compose", "-p", c.project}
	for _, f := range c.files {
		full = append(full, "-f", f)
	}
	cmd := exec.Command("docker", append(full, args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
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
	return e2e.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
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
