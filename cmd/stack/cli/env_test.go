package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestEnvGolden: the output of `stack env` on testdata/env/compose.yaml is
// testdata/env/<case>.golden; -update rewrites them. It asks the real engine
// for the ports of redis:7-alpine and busybox:stable.
func TestEnvGolden(t *testing.T) {
	e2e.Engine(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "env"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMPOSE_PROJECT_NAME", "envgolden")
	t.Setenv("UNSET_IN_SHELL", "") // registers the restore
	if err := os.Unsetenv("UNSET_IN_SHELL"); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"web":        {"env", "web"},
		"web-json":   {"env", "web", "--format", "json"},
		"worker":     {"env", "worker"},
		"api":        {"env", "api"},
		"api-json":   {"env", "api", "--format", "json"},
		"no-service": {"env", "nosuch"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Execute(t.Context(), append([]string{"-f", filepath.Join(dir, "compose.yaml")}, args...), strings.NewReader(""), &stdout, &stderr)
			got := stdout.String() + stderr.String()
			if code != 0 {
				got += fmt.Sprintf("exit %d\n", code)
			}
			golden := filepath.Join(dir, name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestEnvGolden -update ./cmd/stack/cli/ to create it)", err)
			}
			if got != string(want) {
				t.Errorf("stack %s differs from %s:\n--- got\n%s\n--- want\n%s", strings.Join(args, " "), golden, got, want)
			}
		})
	}
}

// TestEnvWithoutEngine: with no engine answering, `stack env` warns and
// injects what the manifest alone says: no port from an image.
func TestEnvWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `
services:
  web: {image: web, depends_on: [redis, db]}
  redis: {image: redis:7-alpine}
  db: {image: pg, expose: ["5432"]}
`})
	var stdout, stderr bytes.Buffer
	if code := Execute(t.Context(), []string{"-f", filepath.Join(dir, "compose.yaml"), "env", "web"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "warning  no engine answers") {
		t.Errorf("no warning that the engine is missing:\n%s", stderr.String())
	}
	for _, want := range []string{"DB_HOST=db ", "DB_PORT=5432 ", "REDIS_HOST=redis ", "# no REDIS_PORT: redis declares no expose or ports, and the ports of its image are unknown"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("want %q in:\n%s", want, stdout.String())
		}
	}
}
