package docker_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// kvImage is the test app of testdata/kv, built once per test process.
const kvImage = "stack-e2e-kv:latest"

// stack writes compose (with `name: <unique project>` prepended) into a
// fresh directory and returns a command runner there and the project name.
func stack(t *testing.T, compose string) (e2e.Cmd, string) {
	t.Helper()
	e2e.Engine(t)
	name := e2e.ProjectName(t)
	dir := t.TempDir()
	write(t, dir, "name: "+name+"\n"+compose)
	return e2e.Cmd{Dir: dir}, name
}

func write(t testing.TB, dir, compose string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ids maps container name -> ID for the project's containers.
func ids(t *testing.T, project string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(e2e.Docker(t, "ps", "-a", "--no-trunc", "--filter", "label=io.stack.project="+project, "--format", "{{.Names}} {{.ID}}"), "\n") {
		if name, id, ok := strings.Cut(line, " "); ok {
			out[name] = id
		}
	}
	return out
}

// get polls url until it answers 200 or the deadline passes.
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = &httpError{resp.Status, string(b)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond) // polling an HTTP endpoint with a deadline
	}
}

type httpError struct{ status, body string }

func (e *httpError) Error() string { return e.status + ": " + e.body }

const seedCompose = `
services:
  app:
    image: ` + kvImage + `
    ports: ["127.0.0.1::8080"]
    depends_on:
      redis: {condition: service_healthy}
  redis:
    image: redis:7-alpine
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 30
    volumes: ["data:/data"]
volumes:
  data: {}
`

// The seed scenario. Model: an app that knows Redis only through REDIS_HOST
// and REDIS_PORT (injected by stack), a Redis with a healthcheck and a named
// volume. Steps: up -> a value stored through the published port reads back;
// up again -> nothing changes (same container IDs); the app's environment
// changes -> only the app is recreated; down, up -> the data is still there;
// down -v -> the volume is gone.
func TestSeedScenario(t *testing.T) {
	c, project := stack(t, seedCompose)
	e2e.GoImage(t, kvImage, "./engine/docker/testdata/kv", "8080/tcp")
	app, redis := project+"-app-1", project+"-redis-1"

	c.MustRun(t, "up")
	base := "http://" + e2e.Docker(t, "port", app, "8080/tcp")
	if got := get(t, base+"/env"); got != "REDIS_HOST=redis REDIS_PORT=6379\n" {
		t.Fatalf("app environment: %q, want the injected redis address", got)
	}
	if got := get(t, base+"/set?key=k&value=v1"); got != "OK" {
		t.Fatalf("set: %q", got)
	}
	if got := get(t, base+"/get?key=k"); got != "v1" {
		t.Fatalf("get: %q, want v1", got)
	}

	first := ids(t, project)
	if r := c.MustRun(t, "up"); !strings.Contains(r.Stderr, "service:app") {
		t.Errorf("no-op up reported nothing about app:\n%s", r.Stderr)
	}
	if again := ids(t, project); !equal(first, again) {
		t.Fatalf("up with nothing changed replaced containers: %v -> %v", first, again)
	}
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Fatalf("plan --detailed-exitcode after up: exit %d, want 0 (no changes)\n%s", r.Code, r.Stdout)
	}

	write(t, c.Dir, "name: "+project+"\n"+strings.Replace(seedCompose, "    ports:", "    environment: {GREETING: hello}\n    ports:", 1))
	r := c.Run(t, "plan", "--detailed-exitcode")
	if r.Code != 2 || !containsLine(r.Stdout, "service:app", "recreate", "environment changed") {
		t.Fatalf("plan after an environment change: exit %d, want 2 and app recreated\n%s", r.Code, r.Stdout)
	}
	c.MustRun(t, "up")
	changed := ids(t, project)
	if changed[app] == first[app] || changed[redis] != first[redis] {
		t.Fatalf("environment change of app: app %s -> %s, redis %s -> %s; want only app recreated",
			first[app], changed[app], first[redis], changed[redis])
	}

	c.MustRun(t, "down")
	if left := ids(t, project); len(left) != 0 {
		t.Fatalf("down left containers: %v", left)
	}
	c.MustRun(t, "up")
	base = "http://" + e2e.Docker(t, "port", app, "8080/tcp")
	if got := get(t, base+"/get?key=k"); got != "v1" {
		t.Fatalf("after down and up: get %q, want v1 from the kept volume", got)
	}

	c.MustRun(t, "down", "-v")
	if v := e2e.Docker(t, "volume", "ls", "-q", "--filter", "label=io.stack.project="+project); v != "" {
		t.Fatalf("down -v left volumes: %s", v)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func containsLine(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// Scale, orphans and down --rmi. Model: web (scale 2) and old, on a test tag
// of busybox. Steps: up -> web-1, web-2, old-1; scale web to 1 and drop old
// -> up removes web-2, warns about old and keeps it; up --remove-orphans ->
// old goes; down --rmi all -> containers, network and the image tag go.
func TestScaleOrphansAndRmi(t *testing.T) {
	e2e.Engine(t)
	tag := "stack-e2e-rmi:" + strings.ToLower(t.Name())
	if out, err := exec.Command("docker", "tag", "busybox:stable", tag).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", tag).Run() })
	service := func(name, extra string) string {
		return "  " + name + ":\n    image: " + tag + "\n    init: true\n    command: [\"sleep\", \"3600\"]\n" + extra
	}
	c, project := stack(t, "services:\n"+service("web", "    scale: 2\n")+service("old", ""))
	c.MustRun(t, "up")
	names := func() []string {
		var out []string
		for name := range ids(t, project) {
			out = append(out, strings.TrimPrefix(name, project+"-"))
		}
		slices.Sort(out)
		return out
	}
	if got := names(); !slices.Equal(got, []string{"old-1", "web-1", "web-2"}) {
		t.Fatalf("containers %v after up with web scale 2", got)
	}

	write(t, c.Dir, "name: "+project+"\nservices:\n"+service("web", ""))
	r := c.MustRun(t, "up")
	if !containsLine(r.Stderr, "service:old", "warning", "--remove-orphans") {
		t.Errorf("no warning about the orphan old")
	}
	if got := names(); !slices.Equal(got, []string{"old-1", "web-1"}) {
		t.Fatalf("containers %v after scaling web to 1, want web-2 removed and the orphan kept", got)
	}
	c.MustRun(t, "up", "--remove-orphans")
	if got := names(); !slices.Equal(got, []string{"web-1"}) {
		t.Fatalf("containers %v after up --remove-orphans", got)
	}

	c.MustRun(t, "down", "--rmi", "all")
	if got := names(); len(got) != 0 {
		t.Fatalf("containers %v after down", got)
	}
	if out, err := exec.Command("docker", "image", "inspect", tag).CombinedOutput(); err == nil {
		t.Fatalf("image %s still there after down --rmi all:\n%s", tag, out)
	}
}

// Anonymous volumes survive a recreate, as in Compose, unless -V asks for
// new ones. Model: db's image declares VOLUME /data and the compose file
// mounts nothing there. Steps: up; write into /data; change db's
// environment -> up recreates db, and the new container sees what the old
// one wrote; up --force-recreate -V -> the new container has an empty
// /data, and the old volume is still on the engine; down -v removes the
// one in use.
func TestRecreateKeepsAnonymousVolumes(t *testing.T) {
	e2e.Engine(t)
	tag := "stack-e2e-anonvol:" + strings.ToLower(t.Name())
	e2e.DockerfileImage(t, tag, "FROM busybox:stable\nVOLUME /data\n")
	const compose = `
services:
  db:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
    environment: {GENERATION: "GEN"}
`
	c, project := stack(t, strings.NewReplacer("IMAGE", tag, "GEN", "1").Replace(compose))
	c.MustRun(t, "up")
	db := project + "-db-1"
	if out, err := exec.Command("docker", "exec", db, "sh", "-c", "echo kept > /data/marker").CombinedOutput(); err != nil {
		t.Fatalf("writing into /data: %v\n%s", err, out)
	}
	before := ids(t, project)[db]

	write(t, c.Dir, "name: "+project+"\n"+strings.NewReplacer("IMAGE", tag, "GEN", "2").Replace(compose))
	c.MustRun(t, "up")
	if after := ids(t, project)[db]; after == before {
		t.Fatal("db was not recreated after its environment changed")
	}
	if got := e2e.Docker(t, "exec", db, "cat", "/data/marker"); got != "kept" {
		t.Fatalf("/data/marker after recreate: %q, want kept", got)
	}

	mounted := func() string {
		return e2e.Docker(t, "inspect", "-f", `{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}`, db)
	}
	old := mounted()
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", old).Run() })
	c.MustRun(t, "up", "-d", "--force-recreate", "-V")
	volume := mounted()
	if volume == old {
		t.Fatalf("up -V kept the anonymous volume %s", old)
	}
	if out, err := exec.Command("docker", "exec", db, "cat", "/data/marker").CombinedOutput(); err == nil {
		t.Fatalf("/data/marker after up -V: %q, want a new, empty volume", out)
	}
	if out, err := exec.Command("docker", "volume", "inspect", old).CombinedOutput(); err != nil {
		t.Fatalf("up -V removed the old anonymous volume %s: %v\n%s", old, err, out)
	}
	c.MustRun(t, "down", "-v")
	if out, err := exec.Command("docker", "volume", "inspect", volume).CombinedOutput(); err == nil {
		t.Fatalf("down -v left the anonymous volume %s:\n%s", volume, out)
	}
}

// Service fields on the real engine. Model: one service using most fields
// the driver maps, on two networks. Steps: up -> the engine accepted it, and
// its inspect shows each field as the compose file says.
func TestServiceFieldsOnTheEngine(t *testing.T) {
	c, project := stack(t, `
services:
  web:
    image: busybox:stable
    command: ["sleep", "3600"]
    init: true
    user: "1000:1000"
    working_dir: /tmp
    labels: {team: shop}
    environment: {MODE: test}
    ports: ["127.0.0.1::8080"]
    expose: ["9000"]
    mem_limit: 64m
    cpus: 0.5
    restart: on-failure:2
    stop_signal: SIGINT
    stop_grace_period: 3s
    extra_hosts: ["db.local:10.0.0.5"]
    dns: [10.0.0.53]
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    tmpfs: [/cache]
    logging: {driver: json-file, options: {max-size: 1m}}
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    networks:
      front: {}
      back: {aliases: [www]}
networks:
  front: {}
  back: {}
`)
	c.MustRun(t, "up")
	name := project + "-web-1"
	checks := map[string]string{
		"{{.Config.User}}":                            "1000:1000",
		"{{.Config.WorkingDir}}":                      "/tmp",
		`{{index .Config.Labels "team"}}`:             "shop",
		`{{index .Config.Labels "io.stack.service"}}`: "web",
		"{{.Config.StopSignal}}":                      "SIGINT",
		"{{.Config.StopTimeout}}":                     "3",
		"{{.HostConfig.Memory}}":                      "67108864",
		"{{.HostConfig.NanoCpus}}":                    "500000000",
		"{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}": "on-failure:2",
		"{{.HostConfig.Init}}":                                             "true",
		"{{json .HostConfig.ExtraHosts}}":                                  `["db.local:10.0.0.5"]`,
		"{{json .HostConfig.Dns}}":                                         `["10.0.0.53"]`,
		"{{json .HostConfig.CapAdd}}":                                      `["CAP_NET_ADMIN"]`,
		"{{json .HostConfig.CapDrop}}":                                     `["CAP_MKNOD"]`,
		"{{json .HostConfig.Tmpfs}}":                                       `{"/cache":""}`,
		"{{.HostConfig.LogConfig.Type}}":                                   "json-file",
		`{{index .HostConfig.LogConfig.Config "max-size"}}`:                "1m",
		`{{(index (index .HostConfig.PortBindings "8080/tcp") 0).HostIp}}`: "127.0.0.1",
		`{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}`:           "8080/tcp 9000/tcp",
		`{{json .Config.Healthcheck.Test}}`:                                `["CMD","true"]`,
		`{{range .Config.Env}}{{if eq . "MODE=test"}}yes{{end}}{{end}}`:    "yes",
	}
	for format, want := range checks {
		if got := e2e.Docker(t, "inspect", "-f", format, name); got != want {
			t.Errorf("%s = %q, want %q", format, got, want)
		}
	}
	// Two networks on an engine that takes one at creation: the second is
	// connected before the start, both with the service name as alias.
	for net, alias := range map[string]string{"front": "web", "back": "www"} {
		format := `{{json (index .NetworkSettings.Networks "` + project + "_" + net + `").Aliases}}`
		got := e2e.Docker(t, "inspect", "-f", format, name)
		if !strings.Contains(got, `"web"`) || !strings.Contains(got, `"`+alias+`"`) {
			t.Errorf("aliases on %s: %s, want web and %s", net, got, alias)
		}
	}
}

// A paused or stopped container is brought back without being replaced.
// Model: web and api, busybox. Steps: up; pause web, stop api -> plan says
// start for both; up -> both running, same container IDs.
func TestUpResumesPausedAndStopped(t *testing.T) {
	c, project := stack(t, `
services:
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
  api:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
`)
	c.MustRun(t, "up")
	before := ids(t, project)
	e2e.Docker(t, "pause", project+"-web-1")
	e2e.Docker(t, "stop", project+"-api-1")
	r := c.MustRun(t, "plan")
	if !containsLine(r.Stdout, "service:web", "start", "paused") || !containsLine(r.Stdout, "service:api", "start", "exited") {
		t.Fatalf("plan:\n%s\nwant web and api started", r.Stdout)
	}
	c.MustRun(t, "up")
	for _, svc := range []string{"web", "api"} {
		if state := e2e.Docker(t, "inspect", "-f", "{{.State.Status}}", project+"-"+svc+"-1"); state != "running" {
			t.Errorf("%s is %s after up, want running", svc, state)
		}
	}
	if after := ids(t, project); !equal(before, after) {
		t.Errorf("containers replaced: %v -> %v", before, after)
	}
}
