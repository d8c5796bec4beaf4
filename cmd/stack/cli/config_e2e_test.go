package cli_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestConfigHashMatchesContainers: `stack config --hash` prints the hash
// `stack up` puts on each service's containers.
//
// Model: web (busybox) depends on cache (busybox), so web's hash covers the
// injected CACHE_HOST.
// Steps: stack up -> containers; stack config --hash -> one line a service,
// each equal to the io.stack.config-hash label of that service's container;
// the environment changes -> web's hash changes.
func TestConfigHashMatchesContainers(t *testing.T) {
	e2e.Engine(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `
services:
  web:
    image: busybox:stable
    command: ["sleep", "300"]
    environment:
      GREETING: ${GREETING:-hello}
    depends_on: [cache]
  cache:
    image: busybox:stable
    command: ["sleep", "300"]
`})
	name := e2e.ProjectName(t)
	cmd := e2e.Cmd{Dir: dir}
	cmd.MustRun(t, "-p", name, "up")
	hashes := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(cmd.MustRun(t, "-p", name, "config", "--hash").Stdout), "\n") {
		service, sum, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("config --hash line %q: want `service hash`", line)
		}
		hashes[service] = sum
	}
	if len(hashes) != 2 {
		t.Fatalf("config --hash printed %v; want web and cache", hashes)
	}
	for service, sum := range hashes {
		label := e2e.Docker(t, "ps", "-a", "--filter", "label="+e2e.Label+"="+name, "--filter", "label=io.stack.service="+service,
			"--format", `{{.Label "io.stack.config-hash"}}`)
		if label != sum {
			t.Errorf("service %s: config --hash %q, container label %q", service, sum, label)
		}
	}
	changed := e2e.Cmd{Dir: dir, Env: []string{"GREETING=bonjour"}}.MustRun(t, "-p", name, "config", "--hash").Stdout
	if !strings.Contains(changed, "cache "+hashes["cache"]) || strings.Contains(changed, "web "+hashes["web"]) {
		t.Errorf("after changing web's environment:\n%s\nwant web's hash changed and cache's not (%v)", changed, hashes)
	}
}
