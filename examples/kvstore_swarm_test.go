package examples_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/internal/e2e"
)

// kvSwarm is examples/kvstore's manifest as a Swarm runs it: still no
// address anywhere. web: four replicas, at most two a node, reached on
// host-mode ports (the lab has no routing mesh), rolled out one task at a
// time, new before old; redis pinned to node 1, where its volume lives.
// Both dnsrr: the lab's kernel has no IPVS for VIPs.
const kvSwarm = `
name: %[1]s
services:
  web:
    build: .
    ports: [{target: 8080, mode: host}]
    depends_on:
      redis: {condition: service_healthy}
    healthcheck: {test: ["CMD", "/kvstore", "-healthcheck"], interval: 1s, timeout: 2s, retries: 3}
    stop_grace_period: 2s
    deploy:
      replicas: 4
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 2}
      update_config: {order: start-first, parallelism: 1, monitor: 2s}
  redis:
    image: redis:7-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"], interval: 1s, timeout: 2s, retries: 30}
    volumes: [data:/data]
    deploy:
      endpoint_mode: dnsrr
      placement: {constraints: [node.labels.stack.lab.node == 1]}
volumes:
  data: {}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[2]s", registry: "%[3]s/%[1]s", project: "%[1]s"}
`

// TestKVStoreOnSwarm: the kvstore app and Redis on the lab's three nodes,
// from a copy of examples/kvstore with the manifest above.
//
//	stack --env cluster up        -> web built here, pushed, 4 tasks on >= 2 nodes, redis on node 1
//	POST/GET on each web task     -> tasks on nodes 2 and 3 reach redis on node 1 through REDIS_HOST/PORT
//	up again                      -> exit 0, no service updated (spec versions unchanged)
//	drain a node running web      -> every request answered meanwhile; then plan: nothing to change
//	a new version (main.go)       -> rolled out one task at a time, each new one before an old one goes
//	a version failing its check   -> Swarm rolls it back, stack exits 1 saying so; the last version runs
//	down                          -> services, network, secrets gone; the volume stays on node 1
//	up                            -> the key written first is still there
//	down -v                       -> the volume gone from node 1 (redis ran there), the others named
func TestKVStoreOnSwarm(t *testing.T) {
	lab := e2e.SwarmExclusive(t) // it drains a node
	project := lab.SwarmProject(t)
	dir := copyExample(t, "kvstore")
	t.Cleanup(func() { removeImagesOf(t, lab.Registry+"/"+project+"/") })
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf(kvSwarm, project, lab.Host, lab.Registry)})
	stack := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster"}}

	stack.MustRun(t, "up")
	tasks := psTasks(t, stack)
	web, redis := tasks.of("web"), tasks.of("redis")
	if len(web) != 4 || len(redis) != 1 || redis[0].Node != "stklab-node1" {
		t.Fatalf("tasks: %+v", tasks)
	}
	if nodes := web.nodes(); len(nodes) < 2 {
		t.Fatalf("web's 4 tasks run on %v, want at least 2 nodes", nodes)
	}
	env := lab.Docker(t, 0, "service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", project+"_web")
	mustContain(t, "web's environment on the cluster", env, `"REDIS_HOST=redis"`, `"REDIS_PORT=6379"`)

	type entry struct {
		Key   string
		Value int64
	}
	var stored entry
	callJSON(t, "POST", "http://"+web[0].addr(t)+"/pizza", "", http.StatusCreated, &stored)
	remote := 0
	for _, task := range web {
		var read entry
		callJSON(t, "GET", "http://"+task.addr(t)+"/pizza", "", http.StatusOK, &read)
		if read != stored {
			t.Errorf("%s on %s read %+v, want %+v", task.Name, task.Node, read, stored)
		}
		if task.Node != redis[0].Node {
			remote++
		}
	}
	if remote == 0 {
		t.Fatalf("no web task runs on another node than redis: %+v", web)
	}

	versions := serviceVersions(t, lab, project)
	stack.MustRun(t, "up")
	if again := serviceVersions(t, lab, project); !slices.Equal(again, versions) {
		t.Errorf("a second up updated services: spec versions %v, then %v", versions, again)
	}

	drained := web[len(web)-1].Node
	for _, task := range web {
		if task.Node != "stklab-node1" {
			drained = task.Node
		}
	}
	stopServing := serveCheck(t, web, drained)
	lab.Docker(t, 0, "node", "update", "--availability", "drain", drained)
	t.Cleanup(func() { lab.Docker(t, 0, "node", "update", "--availability", "active", drained) })
	poll(t, 2*time.Minute, "web's tasks off "+drained, func() bool {
		w := psTasks(t, stack).of("web")
		return len(w) == 4 && !slices.Contains(w.nodes(), drained)
	})
	if served, failed := stopServing(); failed > 0 || served == 0 {
		t.Errorf("while %s drained: %d requests answered, %d failed", drained, served, failed)
	}
	if r := stack.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after the drain: exit %d, want 0 (nothing to change)", r.Code)
	}
	lab.Docker(t, 0, "node", "update", "--availability", "active", drained)

	editMain(t, dir, "kvstore: listening on", "kvstore v2: listening on")
	start := time.Now()
	up := stack.MustRun(t, "up")
	mustContain(t, "the rollout", up.Stderr, "image changed", "updating: ")
	checkRollout(t, lab, project+"_web", start)
	v2 := lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", project+"_web")

	editMain(t, dir, "func check(url string) int {\n", "func check(url string) int {\n\tif url != \"\" {\n\t\treturn 1\n\t}\n")
	bad := stack.Run(t, "up")
	if bad.Code != 1 {
		t.Errorf("up of a version whose healthcheck fails: exit %d, want 1", bad.Code)
	}
	mustContain(t, "the failed rollout", bad.Stderr, `service "web": update rolled back`, "the previous version runs")
	if got := lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", project+"_web"); got != v2 {
		t.Errorf("after the rollback web runs %s, want the last good version %s", got, v2)
	}
	if w := psTasks(t, stack).of("web"); len(w) != 4 {
		t.Errorf("after the rollback: %d web tasks running, want 4", len(w))
	}

	stack.MustRun(t, "down")
	for _, kind := range []string{"service", "network", "secret", "config"} {
		if left := lab.Docker(t, 0, kind, "ls", "-q", "--filter", "label="+e2e.Label+"="+project); left != "" {
			t.Errorf("after down: %ss %s left", kind, left)
		}
	}
	if v := lab.Docker(t, 0, "volume", "ls", "-q", "--filter", "label="+e2e.Label+"="+project); v != project+"_data" {
		t.Fatalf("after down, node 1 has volumes %q, want %s_data kept", v, project)
	}
	editMain(t, dir, "\tif url != \"\" {\n\t\treturn 1\n\t}\n", "")
	stack.MustRun(t, "up")
	var read entry
	callJSON(t, "GET", "http://"+psTasks(t, stack).of("web")[0].addr(t)+"/pizza", "", http.StatusOK, &read)
	if read != stored {
		t.Errorf("after down and up: read %+v, want %+v (redis data on the volume)", read, stored)
	}
	downV := stack.MustRun(t, "down", "-v")
	mustContain(t, "down -v", downV.Stderr, "removed from the manager's node; a manager cannot remove it from the others")
	if v := lab.Docker(t, 0, "volume", "ls", "-q", "--filter", "label="+e2e.Label+"="+project); v != "" {
		t.Errorf("after down -v, node 1 still has volumes %q", v)
	}
}

// psTask is a row of `stack ps --format json`.
type psTask struct {
	Name, Service, Node, State, Image string
	Ports                             []string
}

type taskRows []psTask

// psTasks lists the project's running tasks.
func psTasks(t *testing.T, stack e2e.Cmd) taskRows {
	t.Helper()
	var rows taskRows
	if err := json.Unmarshal([]byte(stack.MustRun(t, "ps", "--format", "json").Stdout), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func (ts taskRows) of(service string) taskRows {
	var out taskRows
	for _, x := range ts {
		if x.Service == service && x.State == "running" {
			out = append(out, x)
		}
	}
	return out
}

func (ts taskRows) nodes() []string {
	var out []string
	for _, x := range ts {
		if !slices.Contains(out, x.Node) {
			out = append(out, x.Node)
		}
	}
	sort.Strings(out)
	return out
}

// addr is where the task's host-mode port answers: "10.235.0.12:30001".
func (x psTask) addr(t *testing.T) string {
	t.Helper()
	if len(x.Ports) == 0 {
		t.Fatalf("task %s publishes no port", x.Name)
	}
	a, _, _ := strings.Cut(x.Ports[0], "->")
	return a
}

// serviceVersions are the spec versions of the project's services: an
// update raises them.
func serviceVersions(t *testing.T, lab *e2e.SwarmLab, project string) []string {
	t.Helper()
	return strings.Fields(lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.Name}}={{.Version.Index}}", project+"_web", project+"_redis"))
}

// serveCheck asks the web tasks not on node for a key, again and again,
// until the returned stop is called; it reports how many answered and how
// many failed.
func serveCheck(t *testing.T, web taskRows, node string) (stop func() (served, failed int64)) {
	t.Helper()
	var addrs []string
	for _, x := range web {
		if x.Node != node {
			addrs = append(addrs, x.addr(t))
		}
	}
	var ok, bad atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := http.Client{Timeout: 5 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := c.Get("http://" + addrs[i%len(addrs)] + "/pizza")
			if err == nil && resp.StatusCode == http.StatusOK {
				ok.Add(1)
			} else {
				bad.Add(1)
				t.Logf("GET %s during the drain: %v", addrs[i%len(addrs)], err)
			}
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	return func() (int64, int64) { close(done); wg.Wait(); return ok.Load(), bad.Load() }
}

// checkRollout proves from the task history that the update since start
// replaced web's tasks one at a time, each new one running before the next
// was created (parallelism 1), and an old one shut down only after a new one
// ran (start-first).
func checkRollout(t *testing.T, lab *e2e.SwarmLab, service string, start time.Time) {
	t.Helper()
	tasks, err := lab.Client(t).TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
	if err != nil {
		t.Fatal(err)
	}
	var fresh, old []swarm.Task
	for _, task := range tasks {
		switch {
		case task.CreatedAt.After(start) && task.Status.State == swarm.TaskStateRunning:
			fresh = append(fresh, task)
		case !task.CreatedAt.After(start) && task.DesiredState == swarm.TaskStateShutdown && task.Status.Timestamp.After(start):
			// stopped by the update: shut down, or complete when the app
			// exits 0 on SIGTERM
			old = append(old, task)
		}
	}
	if len(fresh) != 4 || len(old) != 4 {
		t.Fatalf("the update made %d running tasks and shut %d old ones down, want 4 and 4", len(fresh), len(old))
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].CreatedAt.Before(fresh[j].CreatedAt) })
	sort.Slice(old, func(i, j int) bool { return old[i].Status.Timestamp.Before(old[j].Status.Timestamp) })
	for i := range fresh {
		running := fresh[i].Status.Timestamp // its last change: it started running
		if i > 0 && fresh[i].CreatedAt.Before(fresh[i-1].Status.Timestamp) {
			t.Errorf("new task %d was created at %s, before new task %d ran (%s): not one at a time", i+1, fresh[i].CreatedAt, i, fresh[i-1].Status.Timestamp)
		}
		if old[i].Status.Timestamp.Before(running) {
			t.Errorf("old task %d shut down at %s, before new task %d ran (%s): not start-first", i+1, old[i].Status.Timestamp, i+1, running)
		}
	}
}

// editMain replaces from with to in main.go: a new version of the app.
func editMain(t *testing.T, dir, from, to string) {
	t.Helper()
	path := filepath.Join(dir, "main.go")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("main.go has no %q", from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// poll calls ok every 200ms until it is true, failing the test after limit.
func poll(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %v", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
