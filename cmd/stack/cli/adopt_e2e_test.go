package cli_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestAdoptVolumeAndNetworkE2E: a volume and a network named as the
// project's that stack did not create are adopted, with a warning naming
// each once, and kept as they are.
//
// Model: app (busybox) mounts volume data at /data, on network back; tools,
// in a profile left off, mounts volume logs.
//
//	docker volume create <p>_data (a file written into it), <p>_logs;
//	docker network create <p>_back
//	up                        -> adopt, a warning naming <p>_data once and
//	                             <p>_back once; nothing created of theirs
//	plan --detailed-exitcode  -> 0, both "adopted"
//	exec app cat /data/f      -> what was written before
//	down                      -> <p>_data kept (with its file)
//	up; down -v               -> <p>_data removed (adopted), <p>_logs kept
//	                             (no container of the project uses it)
func TestAdoptVolumeAndNetworkE2E(t *testing.T) {
	stack := project(t, `
services:
  app:
    image: busybox:stable
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    volumes: ["data:/data"]
    networks: [back]
  tools:
    image: busybox:stable
    profiles: [tools]
    volumes: ["logs:/logs"]
volumes:
  data: {}
  logs: {}
networks:
  back: {}
`)
	p := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	data, logs, back := p+"_data", p+"_logs", p+"_back"
	t.Cleanup(func() {
		e2e.Docker(t, "volume", "rm", "-f", data, logs)
		e2e.Docker(t, "network", "rm", back)
	})
	mustDocker(t, "volume", "create", data)
	mustDocker(t, "volume", "create", logs)
	mustDocker(t, "network", "create", back)
	mustDocker(t, "run", "--rm", "-v", data+":/data", "busybox:stable", "sh", "-c", "echo before > /data/f")
	volumeID := e2e.Docker(t, "volume", "inspect", "--format", "{{.CreatedAt}}", data)
	networkID := e2e.Docker(t, "network", "inspect", "--format", "{{.Id}}", back)

	up := stack.MustRun(t, "up")
	out := up.Stdout + up.Stderr
	for _, name := range []string{`volume "` + data + `"`, `network "` + back + `"`} {
		if n := strings.Count(out, name+" exists but was not created by stack"); n != 1 {
			t.Errorf("up warned %d times about %s, want once:\n%s", n, name, out)
		}
	}
	if got := e2e.Docker(t, "network", "inspect", "--format", "{{.Id}}", back); got != networkID {
		t.Errorf("network %s is %s, want the one made by hand, %s", back, got, networkID)
	}
	if got := e2e.Docker(t, "volume", "inspect", "--format", "{{.CreatedAt}}", data); got != volumeID {
		t.Errorf("volume %s was created again", data)
	}
	r := stack.Run(t, "plan", "--detailed-exitcode")
	if r.Code != 0 || strings.Count(r.Stdout, "adopted: not created by stack") != 2 {
		t.Errorf("plan after up: exit %d, want 0 with both adopted:\n%s", r.Code, r.Stdout)
	}
	if got := e2e.Docker(t, "exec", p+"-app-1", "cat", "/data/f"); got != "before" {
		t.Errorf("/data/f in app: %q, want what was written before", got)
	}

	stack.MustRun(t, "down")
	if got := e2e.Docker(t, "run", "--rm", "-v", data+":/data", "busybox:stable", "cat", "/data/f"); got != "before" {
		t.Errorf("after down: %s holds %q, want it kept with its data", data, got)
	}

	stack.MustRun(t, "up")
	stack.MustRun(t, "down", "-v")
	if e2e.Docker(t, "volume", "ls", "-q", "--filter", "name=^"+data+"$") != "" {
		t.Errorf("down -v kept %s, which the project adopted", data)
	}
	if e2e.Docker(t, "volume", "ls", "-q", "--filter", "name=^"+logs+"$") != logs {
		t.Errorf("down -v removed %s, which no container of the project uses", logs)
	}
}

// mustDocker runs the docker CLI and fails the test unless it succeeds.
func mustDocker(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
