package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// run executes stack in dir with env (KEY=VALUE) set and args, and returns
// stdout, stderr and the exit status.
func run(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	isolateEnv(t, dir)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := Execute(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestComposeConventions: the global flags and variables select files,
// name, directory, env files and profiles as Docker Compose does.
func TestComposeConventions(t *testing.T) {
	files := map[string]string{
		"app/compose.yaml": `
services:
  web:
    image: nginx:${TAG:-latest}
    depends_on: [api]
  api:
    image: api
  debug:
    image: busybox
    profiles: [debug]
`,
		"app/compose.override.yaml": `
services:
  api:
    image: api:override
`,
		"app/extra.yaml": `
services:
  api:
    image: api:extra
`,
		"app/.env":       "TAG=from-dotenv\n",
		"app/other.env":  "TAG=from-other\n",
		"app/sub/x.txt":  "",
		"elsewhere/.env": "TAG=from-elsewhere\n",
	}
	tests := []struct {
		name string
		dir  string
		env  []string
		args []string
		want string
	}{
		{"discovery with override", "app", nil, []string{"config", "--images"}, "api:override\nnginx:from-dotenv\n"},
		{"discovery from a subdirectory", "app/sub", nil, []string{"config", "--images"}, "api:override\nnginx:from-dotenv\n"},
		{"-f replaces discovery and merges in order", "app", nil, []string{"-f", "compose.yaml", "-f", "extra.yaml", "config", "--images"}, "api:extra\nnginx:from-dotenv\n"},
		{"COMPOSE_FILE", "app", []string{"COMPOSE_FILE=compose.yaml:extra.yaml"}, []string{"config", "--images"}, "api:extra\nnginx:from-dotenv\n"},
		{"-p", "app", nil, []string{"-p", "named", "config", "--format", "json"}, `"name": "named"`},
		{"COMPOSE_PROJECT_NAME", "app", []string{"COMPOSE_PROJECT_NAME=fromenv"}, []string{"config"}, "name: fromenv\n"},
		{"-p wins over COMPOSE_PROJECT_NAME", "app", []string{"COMPOSE_PROJECT_NAME=fromenv"}, []string{"-p", "flag", "config"}, "name: flag\n"},
		{"name defaults to the directory", "app", nil, []string{"config"}, "name: app\n"},
		{"--env-file", "app", nil, []string{"--env-file", "other.env", "config", "--images"}, "nginx:from-other\n"},
		{"the environment wins over .env", "app", []string{"TAG=from-shell"}, []string{"config", "--images"}, "nginx:from-shell\n"},
		{"--project-directory: its .env and its name", "elsewhere", nil, []string{"--project-directory", ".", "-f", "../app/compose.yaml", "config"}, "image: nginx:from-elsewhere\n"},
		{"--profile", "app", nil, []string{"--profile", "debug", "config", "--services"}, "api\ndebug\nweb\n"},
		{"COMPOSE_PROFILES", "app", []string{"COMPOSE_PROFILES=debug"}, []string{"config", "--services"}, "api\ndebug\nweb\n"},
		{"no profile: profiled services left out", "app", nil, []string{"config", "--services"}, "api\nweb\n"},
	}
	root := e2e.Tree(t, files)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, filepath.Join(root, tt.dir), tt.env, tt.args...)
			if code != 0 {
				t.Fatalf("stack %s: exit %d\n%s", strings.Join(tt.args, " "), code, stderr)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("stack %s printed\n%s\nwant it to contain\n%s", strings.Join(tt.args, " "), stdout, tt.want)
			}
		})
	}
}

// TestDiscoveryPrecedence: with several compose files in a directory,
// compose.yaml wins and a warning says so, as in Compose; compose.yml and the
// docker-compose names are found when alone.
func TestDiscoveryPrecedence(t *testing.T) {
	root := e2e.Tree(t, map[string]string{
		"both/compose.yaml":           "services:\n  a:\n    image: from-compose-yaml\n",
		"both/docker-compose.yml":     "services:\n  a:\n    image: from-docker-compose-yml\n",
		"yml/compose.yml":             "services:\n  a:\n    image: from-compose-yml\n",
		"dcyaml/docker-compose.yaml":  "services:\n  a:\n    image: from-docker-compose-yaml\n",
		"dcyaml/compose.override.yml": "services:\n  a:\n    image: overridden\n",
	})
	for dir, want := range map[string]string{"both": "from-compose-yaml\n", "yml": "from-compose-yml\n", "dcyaml": "overridden\n"} {
		stdout, stderr, code := run(t, filepath.Join(root, dir), nil, "config", "--images")
		if code != 0 || stdout != want {
			t.Errorf("%s: exit %d, images %q, want %q\n%s", dir, code, stdout, want, stderr)
		}
		if dir == "both" && !strings.Contains(stderr, "stack: warning: Found multiple config files") {
			t.Errorf("%s: no warning about the several files: %q", dir, stderr)
		}
	}
}

// TestVersionAndCompletion: `stack version` names the version and Go, and
// cobra's completion scripts are there for the usual shells.
func TestVersionAndCompletion(t *testing.T) {
	dir := t.TempDir()
	stdout, _, code := run(t, dir, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "stack version ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("stack version: exit %d, %q", code, stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		stdout, stderr, code := run(t, dir, nil, "completion", shell)
		if code != 0 || !strings.Contains(stdout, "stack") {
			t.Errorf("stack completion %s: exit %d\n%s", shell, code, stderr)
		}
	}
	// flag values complete too
	stdout, _, _ = run(t, dir, nil, "__complete", "--progress", "")
	if !strings.Contains(stdout, "plain") {
		t.Errorf("completing --progress: %q", stdout)
	}
}

// TestErrorsExit: a broken manifest and a bad flag end with status 1 and
// one message on stderr, nothing on stdout.
func TestErrorsExit(t *testing.T) {
	dir := e2e.Tree(t, map[string]string{"compose.yaml": "services:\n  web:\n    depends_on: [api]\n"})
	for _, args := range [][]string{{"config"}, {"config", "--format", "toml"}, {"--progress", "loud", "config"}, {"--orchestrator", "nomad", "config"}, {"nosuchverb"}} {
		stdout, stderr, code := run(t, dir, nil, args...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "stack: ") {
			t.Errorf("stack %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	if _, stderr, _ := run(t, dir, nil, "--orchestrator", "nomad", "config"); !strings.Contains(stderr, `--orchestrator: orchestrator "nomad" is not one stack has: use docker, swarm or kubernetes`) {
		t.Errorf("--orchestrator nomad: %q", stderr)
	}
	_, stderr, _ := run(t, dir, nil, "config")
	for _, want := range []string{"2 problems", `compose.yaml:2: service "web": image:`, `compose.yaml:3: service "web": depends_on: "api"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}
