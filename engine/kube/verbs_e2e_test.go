package kube_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

const observeCompose = `
services:
  web:
    image: IMAGE
    command: [sh, -c, 'i=0; while true; do echo "tick $$i"; i=$$((i+1)); sleep 1; done']
    stop_grace_period: 1s
    deploy: {replicas: 2}
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: NAMESPACE}
`

// kubeVerbs deploys a service of two pods that print a line a second, and
// returns the command that drives stack on it.
func kubeVerbs(t *testing.T) (e2e.Cmd, *e2e.KubeLab, string) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "IMAGE", lab.Image(t, "busybox:stable")).Replace(observeCompose)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + compose})
	stack := e2e.Cmd{Dir: dir, Env: append(lab.Env(), "STACK_ENV=lab")}
	stack.MustRun(t, "up", "--timeout", "120s")
	return stack, lab, ns
}

// TestKubeObserveVerbs: logs, exec, events and stats on a cluster's pods.
func TestKubeObserveVerbs(t *testing.T) {
	stack, lab, ns := kubeVerbs(t)
	t.Run("logs", func(t *testing.T) { testKubeLogs(t, stack) })
	t.Run("exec", func(t *testing.T) { testKubeExec(t, stack) })
	t.Run("stats", func(t *testing.T) { testKubeStats(t, stack, lab) })
	t.Run("events", func(t *testing.T) { testKubeEvents(t, stack, lab, ns) })
}

// testKubeStats: on a cluster without a metrics API (the lab's), stats
// says so and how to get one, and shows no figures.
func testKubeStats(t *testing.T, stack e2e.Cmd, lab *e2e.KubeLab) {
	r := stack.Run(t, "stats", "--no-stream")
	if strings.Contains(lab.Kubectl(t, "api-versions"), "metrics.k8s.io") {
		// A lab with metrics-server: its figures, not the refusal.
		if r.Code != 0 || !strings.Contains(r.Stdout, "%") {
			t.Errorf("stack stats --no-stream on a cluster with a metrics API: exit %d, want its figures:\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		return
	}
	if r.Code != 1 || !strings.Contains(r.Stderr, "no metrics API (metrics.k8s.io)") || !strings.Contains(r.Stderr, "metrics-server") || strings.Contains(r.Stdout, "%") {
		t.Errorf("stack stats --no-stream: exit %d, want 1 saying the cluster has no metrics API and how to get one, and no figures:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// testKubeEvents: the events the cluster kept since up replay with
// --since, each a pod's of service web (Scheduled, Started); an up that
// rolls web shows live (the Deployment scaling, old pods Killing, new
// ones Started), and --until ends the stream; logs -f takes the new pods
// in.
func testKubeEvents(t *testing.T, stack e2e.Cmd, lab *e2e.KubeLab, ns string) {
	r := stack.MustRun(t, "events", "--since", "10m", "--until", "2s", "--json", "web")
	for _, want := range []string{`"type":"pod","time"`, `"service":"web","container":"web-`, `"action":"Scheduled"`, `"action":"Started"`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stack events --since 10m --json web: no %s:\n%s", want, r.Stdout)
		}
	}
	compose := filepath.Join(stack.Dir, "compose.yaml")
	b, err := os.ReadFile(compose)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "stop_grace_period: 1s", "stop_grace_period: 1s\n    environment: {ROUND: \"2\"}", 1)
	if err := os.WriteFile(compose, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan e2e.Result, 1)
	start := time.Now()
	logs := make(chan e2e.Result, 1)
	go func() { done <- stack.Run(t, "events", "--until", "20s") }()
	until := time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339) // logs' --until 20s is 20s ago, as docker logs reads it
	go func() { logs <- stack.Run(t, "logs", "-f", "--tail", "1", "--until", until, "--no-color", "web") }()
	time.Sleep(2 * time.Second)
	stack.MustRun(t, "up", "--timeout", "60s")
	r = <-done
	if l := <-logs; l.Code != 0 || !strings.Contains(l.Stdout, "web-3@") || !strings.Contains(l.Stdout, "| tick 0\n") {
		t.Errorf("stack logs -f during an up that rolls web: exit %d, want 0 and the new pods' lines from their first (web-3, tick 0):\n%s%s", l.Code, l.Stdout, l.Stderr)
	}
	for _, want := range []string{"deployment ScalingReplicaSet", "pod Killing", "pod Started", "name=web-"} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Errorf("stack events --until 20s during an up that rolls web: exit %d, want 0 and %q:\n%s%s", r.Code, want, r.Stdout, r.Stderr)
		}
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("stack events --until 20s took %s", took)
	}
	_, _ = lab, ns
}

// testKubeExec: the exit code and both streams pass through, standard
// input reaches the command (and -T keeps it out), --index picks another
// pod, -e sets a variable, and --user is refused.
func testKubeExec(t *testing.T, stack e2e.Cmd) {
	r := stack.Run(t, "exec", "-T", "web", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("stack exec -T web sh -c '...; exit 3': exit %d, stdout %q, stderr %q; want 3, out, err", r.Code, r.Stdout, r.Stderr)
	}
	in := stack
	in.Stdin = "hello from stdin\n"
	if r := in.MustRun(t, "exec", "web", "cat"); r.Stdout != "hello from stdin\n" {
		t.Errorf("stack exec web cat: stdout %q, want the input", r.Stdout)
	}
	if r := in.MustRun(t, "exec", "-T", "web", "cat"); r.Stdout != "" {
		t.Errorf("stack exec -T web cat: stdout %q, want nothing: -T keeps standard input out", r.Stdout)
	}
	one := stack.MustRun(t, "exec", "web", "hostname").Stdout
	two := stack.MustRun(t, "exec", "--index", "2", "web", "hostname").Stdout
	if one == two || !strings.HasPrefix(one, "web-") {
		t.Errorf("stack exec web hostname: %q, --index 2: %q; want two pods of web", one, two)
	}
	if r := stack.MustRun(t, "exec", "-e", "GREETING=hi there", "web", "sh", "-c", "echo $GREETING"); r.Stdout != "hi there\n" {
		t.Errorf("stack exec -e GREETING=...: stdout %q, want hi there", r.Stdout)
	}
	if r := stack.Run(t, "exec", "--index", "3", "web", "true"); r.Code != 1 || !strings.Contains(r.Stderr, "2 ready pods") {
		t.Errorf("stack exec --index 3 web: exit %d, want 1 saying web has 2 ready pods:\n%s", r.Code, r.Stderr)
	}
	if r := stack.Run(t, "exec", "--user", "1", "web", "true"); r.Code != 1 || !strings.Contains(r.Stderr, "--user") {
		t.Errorf("stack exec --user 1 web: exit %d, want 1 naming --user:\n%s", r.Code, r.Stderr)
	}
}

// testKubeLogs: both pods' lines, prefixed with service, replica and node,
// --tail per pod, -t timestamps, --grep, and an unknown --tail refused.
func testKubeLogs(t *testing.T, stack e2e.Cmd) {
	var lines []string
	for try := 0; try < 20 && len(lines) < 4; try++ { // each pod prints a line a second
		time.Sleep(500 * time.Millisecond)
		lines = strings.Split(strings.TrimSpace(stack.MustRun(t, "logs", "--tail", "2", "-t", "--no-color", "web").Stdout), "\n")
	}
	if len(lines) != 4 {
		t.Fatalf("stack logs --tail 2 web: %d lines, want 2 from each of 2 pods:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	re := regexp.MustCompile(`^web-([12])@\S+ +\| \d{4}-\d\d-\d\dT\S+Z tick \d+$`)
	seen := map[string]bool{}
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("stack logs line %q: want web-N@NODE | TIME tick N", l)
		}
		seen[m[1]] = true
	}
	if len(seen) != 2 {
		t.Errorf("stack logs: lines of replicas %v, want 1 and 2", seen)
	}
	r := stack.MustRun(t, "logs", "--grep", "tick 0$", "--no-color", "web")
	if got := strings.Count(r.Stdout, "tick 0\n"); got != 2 || strings.Contains(r.Stdout, "tick 1\n") {
		t.Errorf("stack logs --grep 'tick 0$': want the first line of each pod only:\n%s", r.Stdout)
	}
	start := time.Now()
	r = stack.MustRun(t, "logs", "-f", "--tail", "0", "--until", time.Now().Add(3*time.Second).UTC().Format(time.RFC3339Nano), "--no-color", "web")
	if took := time.Since(start); took > 10*time.Second || strings.Count(r.Stdout, "web-1@") < 2 || strings.Count(r.Stdout, "web-2@") < 2 {
		t.Errorf("stack logs -f --until +3s web: %s, want new lines of both pods, then the end:\n%s", took, r.Stdout)
	}
	if r := stack.Run(t, "logs", "--previous", "web"); r.Code != 1 || !strings.Contains(r.Stderr, "no previous container") {
		t.Errorf("stack logs --previous web (no restart): exit %d, want 1 saying there is no previous container:\n%s", r.Code, r.Stderr)
	}
	if r := stack.Run(t, "logs", "--tail", "many"); r.Code == 0 || strings.Count(r.Stderr, "--tail") != 1 {
		t.Errorf("stack logs --tail many: exit %d, want one error naming --tail:\n%s", r.Code, r.Stderr)
	}
}
