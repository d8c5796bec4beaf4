package docker_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// loadClient sends a GET to url every interval until stopped (or ten minutes
// pass), and counts what came back.
type loadClient struct {
	mu       sync.Mutex
	ok, fail int
	bodies   map[string]int
	errs     []string
	longest  time.Duration // the longest time between two answers
	stop     chan struct{}
	done     chan struct{}
}

func startClient(url string, interval time.Duration) *loadClient {
	c := &loadClient{bodies: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	hc := &http.Client{Timeout: 10 * time.Second}
	go func() {
		defer close(c.done)
		last := time.Now()
		deadline := time.After(10 * time.Minute)
		for {
			resp, err := hc.Get(url)
			c.mu.Lock()
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					c.ok++
					c.bodies[strings.TrimSpace(string(b))]++
					c.longest = max(c.longest, time.Since(last))
					last = time.Now()
				} else {
					c.fail++
					c.errs = append(c.errs, resp.Status+" "+strings.TrimSpace(string(b)))
				}
			} else {
				c.fail++
				c.errs = append(c.errs, err.Error())
			}
			c.mu.Unlock()
			select {
			case <-c.stop:
				return
			case <-deadline:
				return
			case <-time.After(interval):
			}
		}
	}()
	return c
}

// finish stops the client and returns what it counted.
func (c *loadClient) finish() (ok, fail int, bodies map[string]int, errs []string) {
	close(c.stop)
	<-c.done
	return c.ok, c.fail, c.bodies, c.errs
}

// webCompose is an HTTP service, two replicas behind the gateway, that
// answers its VERSION; a healthcheck that fails when HEALTH is false.
func webCompose(port int, version, health string) string {
	return fmt.Sprintf(`
x-stack:
  gateway:
    ports: ["127.0.0.1:%d:80"]
services:
  web:
    image: busybox:stable
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo $$VERSION > /www/index.html && exec httpd -f -p 8080 -h /www"]
    environment: {VERSION: %q}
    scale: 2
    healthcheck:
      test: ["CMD", "%s"]
      interval: 500ms
      retries: 4
    x-stack:
      route: {path: /, port: 8080}
`, port, version, health)
}

// Deploys behind the gateway drop no request, and a version that never
// turns healthy never replaces the one that serves. Model: web, two
// replicas behind the gateway, each answering its version; a client sends
// a request every 20 ms through the whole of each deploy. Steps: up v1;
// up v2 (start-first) -> 0 failed requests, v2 answers; up v3 whose
// healthcheck fails -> exit 1 naming the unhealthy container, 0 failed
// requests, v2 still answers alone, ps shows the two v2 containers
// receiving the traffic and nothing else.
func TestGatewayDeploysDropNoRequest(t *testing.T) {
	port := freePort(t)
	c, project := stack(t, webCompose(port, "v1", "true"))
	c.MustRun(t, "up")
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	if got := get(t, url); got != "v1\n" {
		t.Fatalf("GET %s = %q, want v1", url, got)
	}

	deploy := func(version, health string) (e2e.Result, map[string]int) {
		t.Helper()
		write(t, c.Dir, "name: "+project+"\n"+webCompose(port, version, health))
		cl := startClient(url, 20*time.Millisecond)
		time.Sleep(200 * time.Millisecond) // the client runs before the deploy begins
		r := c.Run(t, "up")
		time.Sleep(200 * time.Millisecond) // and goes on once it ends
		ok, fail, bodies, errs := cl.finish()
		t.Logf("%s: %d answered, %d failed, %v", version, ok, fail, bodies)
		if fail != 0 {
			t.Errorf("%s: %d of %d requests failed during the deploy: %v", version, fail, ok+fail, errs)
		}
		return r, bodies
	}

	r, bodies := deploy("v2", "true")
	if r.Code != 0 || bodies["v2"] == 0 {
		t.Fatalf("up v2: exit %d, answers %v", r.Code, bodies)
	}
	r, bodies = deploy("v3", "false")
	if r.Code != 1 || !strings.Contains(r.Stderr, "unhealthy") {
		t.Fatalf("up of a version that never turns healthy: exit %d, want 1 saying it is unhealthy", r.Code)
	}
	if bodies["v3"] != 0 {
		t.Errorf("v3 answered %d requests: it must never receive traffic", bodies["v3"])
	}
	if got := get(t, url); got != "v2\n" {
		t.Errorf("after the failed deploy: %q, want v2", got)
	}
	ps := c.MustRun(t, "ps").Stdout
	for _, want := range []string{project + "-web-1 ", project + "-web-2 ", project + "-gateway "} {
		if !strings.Contains(ps, want) {
			t.Errorf("ps does not list %s:\n%s", want, ps)
		}
	}
	if n := len(ids(t, project)); n != 3 {
		t.Errorf("%d containers after the failed deploy, want the two web and the gateway: %v", n, ids(t, project))
	}
	for _, line := range strings.Split(ps, "\n") {
		if strings.HasPrefix(line, project+"-web-") && !strings.HasSuffix(strings.TrimSpace(line), " /") {
			t.Errorf("ps: %q does not say it receives the route /", line)
		}
	}
}

// A start-first replacement of a service reached by name drops no
// connection. Model: web (start-first, no host port) and a client
// container that resolves web and connects to it every 20 ms, printing ok
// or FAIL. Steps: up; a change of web's environment -> up replaces web;
// the client's output has no FAIL and connected before and after.
func TestStartFirstByNameDropsNoConnection(t *testing.T) {
	const compose = `
services:
  web:
    image: busybox:stable
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/"]
    environment: {GEN: "@GEN@"}
    healthcheck: {test: ["CMD", "true"], interval: 500ms}
    deploy:
      update_config: {order: start-first}
  client:
    image: busybox:stable
    init: true
    depends_on: [web]
    command: ["sh", "-c", "while :; do if nc -w 2 web 8080 </dev/null >/dev/null 2>&1; then echo ok; else echo FAIL; fi; usleep 20000; done"]
`
	c, project := stack(t, strings.Replace(compose, "@GEN@", "1", 1))
	c.MustRun(t, "up")
	clientName := project + "-client-1"
	waitLogs := func(want int) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := e2e.Docker(t, "logs", clientName)
			if strings.Count(out, "ok") >= want || time.Now().After(deadline) {
				return out
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	before := strings.Count(waitLogs(20), "ok")
	write(t, c.Dir, "name: "+project+"\n"+strings.Replace(compose, "@GEN@", "2", 1))
	r := c.MustRun(t, "up")
	if !strings.Contains(r.Stderr, "start-first") {
		t.Errorf("up did not say it replaces web start-first:\n%s", r.Stderr)
	}
	out := waitLogs(before + 20)
	if n := strings.Count(out, "FAIL"); n != 0 {
		t.Errorf("%d connections failed across the replacement (of %d)", n, n+strings.Count(out, "ok"))
	}
}

// Start-first cannot work for a service that publishes a host port: the
// plan refuses it, naming the port, and nothing is created.
func TestStartFirstOnAHostPortIsRefused(t *testing.T) {
	port := freePort(t)
	c, project := stack(t, fmt.Sprintf(`
services:
  web:
    image: busybox:stable
    ports: ["127.0.0.1:%d:8080"]
    deploy:
      update_config: {order: start-first}
`, port))
	r := c.Run(t, "plan")
	want := fmt.Sprintf(`service "web": deploy.update_config.order: start-first, but the service publishes host port %d`, port)
	if r.Code != 1 || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "gateway") {
		t.Fatalf("plan: exit %d, want 1 and %q with the gateway as the way out", r.Code, want)
	}
	if r := c.Run(t, "up"); r.Code != 1 || len(ids(t, project)) != 0 {
		t.Fatalf("up: exit %d, %d containers: want 1 and none", r.Code, len(ids(t, project)))
	}
}

// The gateway's routes change without a restart, and follow the containers
// stop and start. Model: web behind the gateway at /. Steps: up; route it
// at /app with strip_prefix -> plan says reload, up reloads,
// /app/index.html answers, the gateway and web are the same containers;
// stop -> the gateway says no web container is ready (503); start -> it
// answers again.
func TestGatewayRoutesReload(t *testing.T) {
	port := freePort(t)
	compose := webCompose(port, "v1", "true")
	c, project := stack(t, compose)
	c.MustRun(t, "up")
	before := ids(t, project)
	write(t, c.Dir, "name: "+project+"\n"+strings.Replace(compose, "route: {path: /, port: 8080}", "route: {path: /app, port: 8080, strip_prefix: true}", 1))
	r := c.Run(t, "plan", "--detailed-exitcode")
	if r.Code != 2 || !containsLine(r.Stdout, "gateway", "reload", "/app -> web:8080") {
		t.Fatalf("plan: exit %d, want the gateway to reload its routes", r.Code)
	}
	c.MustRun(t, "up")
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/app/index.html", port)); got != "v1\n" {
		t.Errorf("GET /app/index.html = %q, want v1", got)
	}
	if after := ids(t, project); !equal(before, after) {
		t.Errorf("containers changed for a route change: %v -> %v", before, after)
	}
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after the reload: exit %d, want 0", r.Code)
	}

	c.MustRun(t, "stop", "web")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/app/index.html", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with web stopped the gateway answers %s, want 503", resp.Status)
	}
	c.MustRun(t, "start", "web")
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/app/index.html", port)); got != "v1\n" {
		t.Errorf("after start: %q, want v1", got)
	}

	// The gateway keeps /data on a volume of the project's, no anonymous
	// one: down keeps it, down -v removes it.
	data := project + "_gateway-data"
	mounts := e2e.Docker(t, "inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}} {{end}}", project+"-gateway")
	if !strings.Contains(mounts, "volume:"+data+":/data") || strings.Count(mounts, "volume:") != 1 {
		t.Errorf("gateway mounts %q, want only the volume %s on /data", mounts, data)
	}
	c.MustRun(t, "down")
	if got := e2e.Docker(t, "volume", "ls", "-q", "--filter", "name="+data); strings.TrimSpace(got) != data {
		t.Errorf("after down: volumes %q, want %s kept", got, data)
	}
	c.MustRun(t, "down", "-v")
	if got := e2e.Docker(t, "volume", "ls", "-q", "--filter", "name="+data); strings.TrimSpace(got) != "" {
		t.Errorf("after down -v: volumes %q, want none", got)
	}
}
