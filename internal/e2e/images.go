package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GoImage compiles the Go main package at pkg (a path relative to the
// repository root, e.g. "./examples/kvstore/app") as a static binary and
// builds it into image tag FROM scratch, with the binary as entrypoint and
// the given EXPOSE ports. It uses the docker CLI, not stack, so tests of
// stack's own build code do not depend on it.
func GoImage(t testing.TB, tag, pkg string, expose ...string) {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "app"), pkg)
	build.Dir = Root()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	dockerfile := "FROM scratch\nCOPY app /app\n"
	for _, p := range expose {
		dockerfile += "EXPOSE " + p + "\n"
	}
	dockerfile += "ENTRYPOINT [\"/app\"]\n"
	dockerBuild(t, tag, dir, dockerfile)
}

// DockerfileImage builds image tag from a Dockerfile with an empty context,
// through the docker CLI, and removes it when the test ends.
func DockerfileImage(t testing.TB, tag, dockerfile string) {
	t.Helper()
	dockerBuild(t, tag, t.TempDir(), dockerfile)
	t.Cleanup(func() { Docker(t, "rmi", tag) })
}

func dockerBuild(t testing.TB, tag, dir, dockerfile string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("docker", "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, out)
	}
}
