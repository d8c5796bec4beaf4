package gateway_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// Every golden config is one the gateway's Caddy (the caddy:2 image) takes:
// `caddy validate` provisions each module of it, so a golden file cannot
// drift into a config that Caddy refuses.
func TestGoldenConfigsValidateInCaddy(t *testing.T) {
	e2e.Engine(t)
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatal("no golden config in testdata")
	}
	// One container validates them all, one after the other.
	script := ""
	for _, f := range files {
		script += "caddy validate --config /t/" + filepath.Base(f) + " >/dev/null 2>&1 && echo ok " + filepath.Base(f) + " || echo FAILED " + filepath.Base(f) + "; "
	}
	out, err := exec.Command("docker", "run", "--rm", "-v", dir+":/t:ro", "caddy:2", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run caddy:2: %v\n%s", err, out)
	}
	for _, f := range files {
		if !strings.Contains(string(out), "ok "+filepath.Base(f)+"\n") {
			t.Errorf("caddy validate refuses %s:\n%s", filepath.Base(f), out)
		}
	}
}
