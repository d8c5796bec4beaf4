package cli_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestBrokenManifestTouchesNothing: `stack up` on a manifest with a
// validation error stops before the engine is touched.
//
// Model: for each kind of error, a compose file whose other services are
// valid (so a tool that validated lazily would already have created their
// network, volume and containers).
// Steps: stack -p NAME up -> exit 1, stderr names file, service and field;
// then docker ps -a / network ls / volume ls filtered on io.stack.project=NAME
// -> all empty.
func TestBrokenManifestTouchesNothing(t *testing.T) {
	e2e.Engine(t)
	const valid = `
  ok:
    image: busybox:stable
    command: ["sleep", "60"]
    volumes: [okdata:/data]
volumes:
  okdata: {}
`
	tests := []struct {
		name     string
		services string
		env      []string
		want     []string // substrings of stderr: file:line, service, field
	}{
		{"yaml syntax", "  web:\n    image: busybox:stable\n   command: x\n", nil, []string{"compose.yaml:4:", "did not find expected key"}},
		{"missing dependency", "  web:\n    image: busybox:stable\n    depends_on: [api]\n", nil, []string{"compose.yaml:4:", `service "web"`, "depends_on", `"api"`}},
		{"cycle", "  web:\n    image: busybox:stable\n    depends_on: [api]\n  api:\n    image: busybox:stable\n    depends_on: [web]\n", nil, []string{`service "web"`, "depends_on", "web -> api -> web"}},
		{"no image", "  web:\n    command: [\"true\"]\n", nil, []string{"compose.yaml:2:", `service "web"`, "image"}},
		{"port", "  web:\n    image: busybox:stable\n    ports: [\"80:abc\"]\n", nil, []string{"compose.yaml:4:", `service "web"`, "ports[0]"}},
		{"volume", "  web:\n    image: busybox:stable\n    volumes: [\":/x\"]\n", nil, []string{"compose.yaml:4:", `service "web"`, "volumes[0]"}},
		{"required variable", "  web:\n    image: busybox:${TAG:?set TAG}\n", nil, []string{"compose.yaml:3:", `service "web"`, "image", "TAG"}},
		{"container_name", "  web:\n    image: busybox:stable\n    container_name: stack-e2e-dup\n  api:\n    image: busybox:stable\n    container_name: stack-e2e-dup\n", nil, []string{"compose.yaml:7:", `service "api"`, "container_name"}},
		{"profile-disabled dependency", "  web:\n    image: busybox:stable\n    depends_on: [dbg]\n  dbg:\n    image: busybox:stable\n    profiles: [debug]\n", nil, []string{"compose.yaml:4:", `service "web"`, "depends_on", "--profile debug"}},
		{"x-stack key", "  web:\n    image: busybox:stable\n    x-stack:\n      injekt: {}\n", nil, []string{"compose.yaml:5:", `service "web"`, "x-stack.injekt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "services:\n" + tt.services + valid})
			name := e2e.ProjectName(t)
			for _, verb := range []string{"up", "plan"} {
				r := e2e.Cmd{Dir: dir, Env: tt.env}.Run(t, "-p", name, verb)
				if r.Code != 1 {
					t.Fatalf("stack %s: exit %d, want 1", verb, r.Code)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.Stderr, w) {
						t.Errorf("stack %s: stderr lacks %q:\n%s", verb, w, r.Stderr)
					}
				}
			}
			filter := "label=" + e2e.Label + "=" + name
			for _, what := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}} {
				if out := e2e.Docker(t, append(what, "--filter", filter)...); out != "" {
					t.Errorf("docker %s: the engine has resources of the project: %s", strings.Join(what, " "), out)
				}
			}
		})
	}
}
