package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestPlanGolden: the text `stack plan` prints, against golden files
// (testdata/plan; -update rewrites them).
//
// Model: cache (healthcheck, named volume), web (depends on cache being
// healthy, 2 replicas), on the default network.
// Steps: plan on an empty engine -> new.golden (exit 2 with
// --detailed-exitcode); up; web's environment changes and an orphan appears
// -> changed.golden.
func TestPlanGolden(t *testing.T) {
	e2e.Engine(t)
	const compose = `
volumes:
  data: {}
services:
  cache:
    image: busybox:stable
    init: true
    command: ["sleep", "300"]
    healthcheck: {test: ["CMD", "true"], interval: 500ms}
    volumes: ["data:/data"]
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "300"]
    scale: 2
    environment: {MODE: MODE_VALUE}
    depends_on:
      cache: {condition: service_healthy}
`
	dir := t.TempDir()
	name := e2e.ProjectName(t)
	cmd := e2e.Cmd{Dir: dir}
	write := func(mode, extra string) {
		e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": strings.Replace(compose, "MODE_VALUE", mode, 1) + extra})
	}
	write("a", "")
	r := cmd.Run(t, "-p", name, "plan", "--detailed-exitcode")
	if r.Code != 2 {
		t.Fatalf("plan on an empty engine: exit %d, want 2 (changes)", r.Code)
	}
	golden(t, "new.golden", r.Stdout)

	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": strings.Replace(compose, "MODE_VALUE", "a", 1) +
		"  old:\n    image: busybox:stable\n    init: true\n    command: [\"sleep\", \"300\"]\n"})
	cmd.MustRun(t, "-p", name, "up")
	write("b", "")
	golden(t, "changed.golden", cmd.Run(t, "-p", name, "plan").Stdout)
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", "plan", file)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestPlanGolden -update ./cmd/stack/cli/ writes it)", err)
	}
	if got != string(want) {
		t.Errorf("stack plan:\n%s\nwant (%s):\n%s", got, path, want)
	}
}
