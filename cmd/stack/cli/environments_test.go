package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

const envCompose = `
name: shop
services:
  web:
    build: ./web
  cache:
    image: redis:7-alpine
x-stack:
  environments:
    staging:
      registry: 127.0.0.1:5000/shop
    prod:
      registry: registry.example.com/shop
      files: [compose.prod.yaml]
    remote:
      registry: 127.0.0.1:5002/shop
      host: unix:///nonexistent/stack-test/docker.sock
`

// TestEnvironmentSelection: --env and STACK_ENV select an environment for
// every command; unknown names are refused with the known ones; the
// release verbs need one and say so.
func TestEnvironmentSelection(t *testing.T) {
	files := map[string]string{
		"compose.yaml":      envCompose,
		"compose.prod.yaml": "services:\n  web:\n    environment: {MODE: prod}\n",
		"web/Dockerfile":    "FROM scratch\n",
	}
	// LoadProject points DOCKER_HOST at an environment's engine: restore it.
	t.Setenv("DOCKER_HOST", os.Getenv("DOCKER_HOST"))
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout []string
	}{
		{
			name: "flag", args: []string{"--env", "staging", "config", "--images"},
			stdout: []string{"127.0.0.1:5000/shop/cache:7-alpine\n", "127.0.0.1:5000/shop/web:latest\n"},
		},
		{
			name: "variable", env: []string{"STACK_ENV=prod"}, args: []string{"config", "--no-inject"},
			stdout: []string{"image: registry.example.com/shop/web:latest", "MODE: prod"},
		},
		{
			name: "flag wins over variable", env: []string{"STACK_ENV=prod"}, args: []string{"--env", "staging", "config", "--images"},
			stdout: []string{"127.0.0.1:5000/shop/web:latest"}, noStdout: []string{"registry.example.com"},
		},
		{
			name: "none", args: []string{"config", "--images"},
			stdout: []string{"redis:7-alpine\n"}, noStdout: []string{"127.0.0.1"},
		},
		{
			name: "unknown", args: []string{"--env", "prd", "config"}, code: 1,
			stderr: []string{`environment "prd" is not defined`, "use one of: prod, remote, staging"},
		},
		{
			name: "release needs an environment", args: []string{"release"}, code: 1,
			stderr: []string{"--env", "prod", "staging"},
		},
		{
			name: "releases needs an environment", args: []string{"releases"}, code: 1,
			stderr: []string{"--env"},
		},
		{
			name: "no releases yet", args: []string{"promote", "staging", "prod"}, code: 1,
			stderr: []string{`no release for environment "staging"`, "stack release --env staging"},
		},
		{
			name: "promote to itself", args: []string{"promote", "prod", "prod"}, code: 1,
			stderr: []string{"the same environment"},
		},
		{
			name: "promote to an unknown environment", args: []string{"promote", "staging", "qa"}, code: 1,
			stderr: []string{`environment "qa" is not defined`},
		},
		{
			name: "the environment's engine", args: []string{"release", "--env", "remote", "--tag", "v1"}, code: 1,
			stderr: []string{"/nonexistent/stack-test/docker.sock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := e2e.Tree(t, files)
			stdout, stderr, code := run(t, dir, append([]string{"STACK_ENV="}, tt.env...), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not hold %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.noStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout holds %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr)
				}
			}
		})
	}
}
