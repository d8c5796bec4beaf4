package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Label is the project label stack puts on everything it creates; cleanup
// removes resources by it. It is engine.LabelProject, written out because
// manifest's tests use this package and engine imports manifest
// (engine/labels_test.go checks the two agree).
const Label = "io.stack.project"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Root is the repository's top directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary builds cmd/stack once per test process and returns its path. Every
// process of a run builds to the same place (one directory per checkout),
// each into a file of its own renamed over the last, so runs leave one binary
// behind, not one per package.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		sum := sha256.Sum256([]byte(Root()))
		dir := filepath.Join(os.TempDir(), "stack-e2e-bin-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stack")
		tmp := fmt.Sprintf("%s.%d", binPath, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "./cmd/stack")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("building stack: " + err.Error() + "\n" + string(out))
			return
		}
		buildErr = os.Rename(tmp, binPath)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Engine marks t as an end-to-end test: left out under -short, failed (never
// skipped) when no Docker engine answers.
func Engine(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test; -short runs unit tests only")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("no Docker engine answers (run scripts/engine.sh, or `make test`, which does): %v\n%s", err, out)
	}
}

// ProjectName returns a project name unique to this test run and removes
// every container, network and volume labelled with it when the test ends.
func ProjectName(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() { RemoveProject(t, name) })
	return name
}

// uniqueName is a project name made of the test's name and random bytes.
func uniqueName(t testing.TB) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	base := strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), ""))
	if len(base) > 20 {
		base = base[:20]
	}
	return "e2e" + base + hex.EncodeToString(b)
}

// RemoveAtCleanup removes the projects named (an --env deploys as
// <project>-<env>) when the test ends.
func RemoveAtCleanup(t testing.TB, projects ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, p := range projects {
			RemoveProject(t, p)
		}
	})
}

// RemoveProject force-removes the containers, networks and volumes labelled
// with project name (images are the tests' own to remove).
func RemoveProject(t testing.TB, name string) {
	t.Helper()
	filter := "label=" + Label + "=" + name
	if ids := Docker(t, "ps", "-aq", "--filter", filter); ids != "" {
		// Anonymous volumes a recreate handed on to a new container are
		// mounted by name, so `rm -v` keeps them: collect them first.
		mounts := Docker(t, append([]string{"inspect", "--format", `{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}`}, strings.Fields(ids)...)...)
		_, _ = exec.Command("docker", append([]string{"rm", "-fv"}, strings.Fields(ids)...)...).CombinedOutput()
		for _, v := range strings.Fields(mounts) {
			_, _ = exec.Command("docker", "volume", "rm", v).CombinedOutput()
		}
	}
	if ids := Docker(t, "network", "ls", "-q", "--filter", filter); ids != "" {
		_, _ = exec.Command("docker", append([]string{"network", "rm"}, strings.Fields(ids)...)...).CombinedOutput()
	}
	if ids := Docker(t, "volume", "ls", "-q", "--filter", filter); ids != "" {
		_, _ = exec.Command("docker", append([]string{"volume", "rm", "-f"}, strings.Fields(ids)...)...).CombinedOutput()
	}
}

// Docker runs the docker CLI and returns its trimmed stdout; it does not fail
// the test, so cleanup and probes can use it.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Logf("docker %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// Result is what one run of the binary did.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Cmd describes one invocation of stack.
type Cmd struct {
	Dir   string   // working directory
	Env   []string // extra KEY=VALUE on top of the test's environment
	Stdin string
}

// Run runs stack with args in c.Dir and returns what it printed and its
// exit status; it fails the test only when the binary cannot be started.
func (c Cmd) Run(t testing.TB, args ...string) Result {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(append(os.Environ(), "CI=true"), c.Env...)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running stack %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ stack %s  (exit %d)\n%s%s", strings.Join(args, " "), code, stdout.String(), withoutBuildSteps(stderr.String(), code))
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// withoutBuildSteps drops the build's step lines from what a command that
// succeeded printed (they are most of a build's output), so that a failing
// test's log stays short enough to be read whole in CI's excerpt.
func withoutBuildSteps(out string, code int) string {
	if code != 0 {
		return out
	}
	var kept []string
	steps := 0
	for _, line := range strings.SplitAfter(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "step" {
			steps++
			continue
		}
		kept = append(kept, line)
	}
	if steps > 0 {
		kept = append(kept, fmt.Sprintf("(%d build step lines left out)\n", steps))
	}
	return strings.Join(kept, "")
}

// MustRun is Run that fails the test unless stack exits 0.
func (c Cmd) MustRun(t testing.TB, args ...string) Result {
	t.Helper()
	r := c.Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("stack %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// Tree writes files (relative path -> content) into a temporary directory
// of t's and returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, files)
	return dir
}

// WriteFiles writes name -> content under dir, creating directories.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
