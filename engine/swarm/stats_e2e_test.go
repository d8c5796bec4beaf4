package swarm_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// watchCompose: web has a replica on each of the three nodes, each writing
// a "tick N" and a "tock N" line a second.
const watchCompose = `
name: %[1]s
services:
  web:
    image: %[2]s
    init: true
    command: [sh, -c, 'i=0; while true; do echo "tick $$i"; echo "tock $$i"; i=$$((i+1)); sleep 1; done']
    stop_grace_period: 1s
    deploy:
      endpoint_mode: dnsrr
      replicas: 3
      placement: {max_replicas_per_node: 1}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[3]s", project: "%[1]s"}
`

// TestStatsEventsLogsOnSwarm: the project can be watched on a Swarm.
//
//	stack events --format json --since (just before) during stack up -> the service's create, and each task running, with its node
//	stack stats --no-stream --format json      -> a sample per task, on its own node, read from that node's engine
//	the same without STACK_SWARM_NODE_HOSTS    -> the manager's node's task only, and a warning naming the others
//	stack logs -t --grep 'tick'                -> only tick lines, of the three nodes, prefixed web-N@node, in time order
//	stack dashboard, its event stream          -> web 3/3 running on three nodes, with its tasks' memory
func TestStatsEventsLogsOnSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf(watchCompose, project, lab.Image(t, "busybox:stable"), lab.Host)})
	var hosts []string
	for i, n := range lab.Nodes {
		hosts = append(hosts, fmt.Sprintf("stklab-node%d=%s", i+1, n.Host))
	}
	stack := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster", "STACK_SWARM_NODE_HOSTS=" + strings.Join(hosts, ",")}}

	events := startEvents(t, dir, time.Now())
	stack.MustRun(t, "up")
	running := map[string]string{} // task -> node
	deadline := time.Now().Add(30 * time.Second)
	created := false
	for time.Now().Before(deadline) && (!created || len(running) < 3) {
		for _, e := range events.read() {
			switch {
			case e.Type == "service" && e.Action == "create" && e.Service == "web":
				created = true
			case e.Type == "task" && e.Action == "running" && e.Service == "web":
				running[e.Container] = e.Attributes["node"]
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !created || len(running) != 3 || distinct(running) != 3 {
		t.Fatalf("stack events during up: service created %v, tasks running %v; want the create and three tasks on three nodes", created, running)
	}

	r := stack.MustRun(t, "stats", "--no-stream", "--format", "json")
	samples := statsLines(t, r.Stdout)
	onNode := map[string]string{}
	for _, s := range samples {
		if s.Service != "web" || s.Memory == 0 || !strings.HasPrefix(s.Container, project+"_web.") {
			t.Errorf("sample %+v: want one of web's tasks, with its memory", s)
		}
		onNode[s.Container] = s.Node
	}
	if len(onNode) != 3 || distinct(onNode) != 3 {
		t.Errorf("stack stats: samples of %v, want the three tasks on three nodes", onNode)
	}
	for task, node := range onNode {
		if running[task] != node {
			t.Errorf("stats says %s runs on %s, the events said %s", task, node, running[task])
		}
	}

	managerOnly := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster", "STACK_SWARM_NODE_HOSTS="}}
	r = managerOnly.MustRun(t, "stats", "--no-stream", "--format", "json")
	if s := statsLines(t, r.Stdout); len(s) != 1 || s[0].Node != "stklab-node1" {
		t.Errorf("stats without the nodes' engines: %+v, want the one task on the manager's node", s)
	}
	for _, node := range []string{"stklab-node2", "stklab-node3"} {
		if !strings.Contains(r.Stderr, "warning: node "+node+": its engine cannot be reached") || !strings.Contains(r.Stderr, "STACK_SWARM_NODE_HOSTS") {
			t.Errorf("stats without the nodes' engines: stderr %q, want a warning about %s", r.Stderr, node)
		}
	}

	logs := stack.MustRun(t, "logs", "-t", "--grep", "^tick").Stdout
	nodes, last := map[string]bool{}, time.Time{}
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		prefix, rest, _ := strings.Cut(l, " | ")
		stamp, text, _ := strings.Cut(rest, " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if !strings.HasPrefix(text, "tick ") || err != nil {
			t.Fatalf("stack logs --grep ^tick: line %q, want only tick lines with their time", l)
		}
		if at.Before(last) {
			t.Errorf("stack logs: %q comes after a line of %s: not in time order", l, last.Format(time.RFC3339Nano))
		}
		last = at
		_, node, ok := strings.Cut(strings.TrimSpace(prefix), "@")
		if !ok || !strings.HasPrefix(strings.TrimSpace(prefix), "web-") {
			t.Errorf("stack logs: prefix %q, want web-N@node", prefix)
		}
		nodes[node] = true
	}
	if len(nodes) != 3 {
		t.Errorf("stack logs --grep: lines of nodes %v, want all three", nodes)
	}

	dashboardShowsTasks(t, dir, stack.Env)
}

// dashboardShowsTasks runs stack dashboard and reads its event stream (as
// its page does) until web shows 3/3 running on three nodes with the
// memory its tasks use, for 30s at most.
func dashboardShowsTasks(t *testing.T, dir string, env []string) {
	t.Helper()
	type state struct {
		Services []struct {
			Name     string `json:"name"`
			Running  int    `json:"running"`
			Memory   uint64 `json:"memory_bytes"`
			Replicas []struct {
				Node string `json:"node"`
			} `json:"replicas"`
		} `json:"services"`
	}
	var last string
	shown := e2e.DashboardStates(t, dir, env, func(data []byte) bool {
		var st state
		if json.Unmarshal(data, &st) != nil {
			return false
		}
		for _, s := range st.Services {
			if s.Name != "web" {
				continue
			}
			nodes := map[string]string{}
			for i, r := range s.Replicas {
				nodes[strconv.Itoa(i)] = r.Node
			}
			last = fmt.Sprintf("%d running, nodes %v, memory %d", s.Running, nodes, s.Memory)
			return s.Running == 3 && distinct(nodes) == 3 && s.Memory > 0
		}
		return false
	})
	if !shown {
		t.Errorf("stack dashboard on the Swarm: web shows %s; want 3 running on three nodes, with their memory", last)
	}
}

func distinct(m map[string]string) int {
	seen := map[string]bool{}
	for _, v := range m {
		if v != "" {
			seen[v] = true
		}
	}
	return len(seen)
}

type statsLine struct {
	Service   string `json:"service"`
	Container string `json:"container"`
	Node      string `json:"node"`
	Memory    uint64 `json:"memory_bytes"`
}

func statsLines(t *testing.T, out string) []statsLine {
	t.Helper()
	var lines []statsLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var s statsLine
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("stats --format json: line %q: %v", sc.Text(), err)
		}
		if s.Container != "" {
			lines = append(lines, s)
		}
	}
	return lines
}

type eventLine struct {
	Type       string            `json:"type"`
	Service    string            `json:"service"`
	Container  string            `json:"container"`
	Action     string            `json:"action"`
	Attributes map[string]string `json:"attributes"`
}

// eventsRun is stack events --format json running until the test ends.
type eventsRun struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (e *eventsRun) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.Write(b)
}

// read returns the events printed so far.
func (e *eventsRun) read() []eventLine {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []eventLine
	for _, l := range strings.Split(e.out.String(), "\n") {
		var ev eventLine
		if json.Unmarshal([]byte(l), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out
}

// startEvents runs stack events from since on (what happened between since
// and when it follows is replayed).
func startEvents(t *testing.T, dir string, since time.Time) *eventsRun {
	t.Helper()
	run := &eventsRun{}
	e2e.Background(t, dir, []string{"STACK_ENV=cluster"}, run, "events", "--format", "json", "--since", since.Add(-time.Second).Format(time.RFC3339Nano))
	return run
}
