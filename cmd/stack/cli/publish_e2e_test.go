package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestPublishE2E publishes a project to a registry and deploys it from an
// empty directory, with stack and with Docker Compose each way.
//
// Model: web (busybox) whose GREETING comes from an env file.
//
//	publish REG/app:stack              -> refused: web sets variables and --with-env is not given
//	publish --with-env REG/app:stack   -> prints the artifact's digest
//	stack -f oci://REG/app:stack up    -> (empty directory) web runs with GREETING=hi
//	docker compose -f oci://REG/app:stack up -d -> the same from Compose
//	docker compose publish --with-env REG/app:compose; stack -f oci://REG/app:compose up -> GREETING=hi
func TestPublishE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	cfg := e2e.DockerConfig(t, reg)
	// Compose is a plugin of the docker CLI, found in DOCKER_CONFIG.
	plugin := filepath.Join(os.Getenv("HOME"), ".docker", "cli-plugins", "docker-compose")
	if c := os.Getenv("COMPOSE"); c != "" {
		plugin = c
	}
	if err := os.MkdirAll(filepath.Join(cfg, "cli-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(plugin, filepath.Join(cfg, "cli-plugins", "docker-compose")); err != nil {
		t.Fatal(err)
	}
	src, empty := t.TempDir(), t.TempDir()
	e2e.WriteFiles(t, src, map[string]string{
		"compose.yaml": "services:\n  web:\n    image: busybox:stable\n    command: [\"sh\", \"-c\", \"exec sleep 3600\"]\n    stop_signal: SIGKILL\n    env_file: web.env\n",
		"web.env":      "GREETING=hi\n",
	})
	env := []string{"DOCKER_CONFIG=" + cfg, "XDG_CACHE_HOME=" + t.TempDir()}
	name := e2e.ProjectName(t)
	publisher := e2e.Cmd{Dir: src, Env: env}
	if r := publisher.Run(t, "publish", reg.Ref("app:stack")); r.Code == 0 || !strings.Contains(r.Stderr, "--with-env") {
		t.Errorf("publish without --with-env: exit %d, %q; want refused, naming --with-env", r.Code, r.Stderr)
	}
	if d := publisher.MustRun(t, "publish", "--with-env", reg.Ref("app:stack")).Stdout; !strings.HasPrefix(d, "sha256:") {
		t.Errorf("publish printed %q, want the digest", d)
	}

	deployer := e2e.Cmd{Dir: empty, Env: append(env, "COMPOSE_PROJECT_NAME="+name)}
	deployer.MustRun(t, "-f", "oci://"+reg.Ref("app:stack"), "up")
	if got := greeting(t, name+"-web-1"); got != "hi" {
		t.Errorf("stack up from stack's artifact: GREETING=%q", got)
	}

	dc := e2e.ComposeProject{Dir: empty, Name: name + "dc", Env: env}
	t.Cleanup(func() { dc.Run(t, "down", "-t", "0") })
	dc.MustRun(t, "--insecure-registry", reg.Host, "-f", "oci://"+reg.Ref("app:stack"), "up", "-d")
	if got := greeting(t, dc.Name+"-web-1"); got != "hi" {
		t.Errorf("docker compose up from stack's artifact: GREETING=%q", got)
	}

	dcPub := e2e.ComposeProject{Dir: src, Name: name + "pub", Env: env}
	dcPub.MustRun(t, "publish", "--insecure-registry", "--with-env", "-y", reg.Ref("app:compose"))
	name2 := name + "b"
	e2e.RemoveAtCleanup(t, name2)
	again := e2e.Cmd{Dir: empty, Env: append(env, "COMPOSE_PROJECT_NAME="+name2)}
	again.MustRun(t, "-f", "oci://"+reg.Ref("app:compose"), "up")
	if got := greeting(t, name2+"-web-1"); got != "hi" {
		t.Errorf("stack up from Compose's artifact: GREETING=%q", got)
	}
}

func greeting(t *testing.T, container string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", container, "sh", "-c", "echo $GREETING").CombinedOutput()
	if err != nil {
		t.Errorf("docker exec %s: %v\n%s", container, err, out)
	}
	return strings.TrimSpace(string(out))
}
