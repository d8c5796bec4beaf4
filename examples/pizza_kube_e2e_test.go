package examples_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestPizzaOnKubernetes: the pizza shop on the Kubernetes lab, reached
// only through stack's gateway, as TestPizza on one engine.
//
// Model: examples/pizza as it is, with an environment lab {orchestrator:
// kubernetes, namespace: the test's, registry: the lab's}, the gateway on
// a NodePort, and web and messages given REV=${REV:-1} so that a changed
// REV redeploys them.
//
//	stack up --env lab            -> built, pushed, run by digest; the gateway (Caddy, a Deployment)
//	                                 answers at $STACK_KUBE_NODE:<NodePort>: / is the page, both APIs answer
//	POST /api/messages "order .." -> the bot placed the order via the orders API (ORDERS_HOST through cluster DNS)
//	plan                          -> everything unchanged, the gateway too
//	REV=2 up, then up --no-deps --force-recreate web messages, a client asking every 20 ms
//	                              -> web and messages rolled out twice (new pods), no request failed
//	a new route /shop             -> plan: gateway reload; up rolls the gateway, a client asking every 20 ms
//	                                 meanwhile: no request failed; /shop/ is the page
//	down; up                      -> the gateway's objects gone, then back; the order is still there (the claim)
func TestPizzaOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(e2e.Root(), "examples", "pizza"))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() { // what the gateway and the services said
			for _, d := range []string{"deploy/stack-gateway", "deploy/messages", "deploy/web", "statefulset/orders"} {
				t.Logf("kubectl logs %s:\n%s", d, lab.Kubectl(t, "-n", ns, "logs", d, "--all-containers", "--tail", "40", "--timestamps"))
			}
		}
		if ids := e2e.Docker(t, "images", "-q", "--filter", "reference="+lab.Registry+"/"+ns+"/*"); ids != "" {
			e2e.Docker(t, append([]string{"rmi", "-f"}, strings.Fields(ids)...)...)
		}
	})
	compose, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := fmt.Sprintf("x-stack:\n  environments:\n    lab: {orchestrator: kubernetes, namespace: %s, registry: %s/%s}\n  gateway:", ns, lab.Registry, ns)
	rev := func(svc string) (string, string) {
		return "args: {SERVICE: " + svc + "}", "args: {SERVICE: " + svc + "}\n    environment: {REV: \"${REV:-1}\"}"
	}
	r := strings.NewReplacer(append([]string{"x-stack:\n  gateway:", env}, append(pair(rev("web")), pair(rev("messages"))...)...)...)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + r.Replace(string(compose))})
	nodePort := 31000 + int(time.Now().UnixNano()/1000%1700)
	stack := e2e.Cmd{Dir: dir, Env: append(lab.Env(), fmt.Sprintf("PIZZA_PORT=%d", nodePort))}
	url := func(path string) string { return fmt.Sprintf("http://%s:%d%s", lab.Node, nodePort, path) }

	start := time.Now()
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "300s")
	t.Logf("up (build, push, roll out 3 services and the gateway): %s", time.Since(start).Round(100*time.Millisecond))
	if img := lab.Kubectl(t, "-n", ns, "get", "deploy/stack-gateway", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); !strings.Contains(img, lab.Registry+"/"+ns+"/stack-gateway@sha256:") {
		t.Errorf("the gateway runs %q, not the lab registry's copy by digest", img)
	}

	nodePortAnswers(t, url("/"))
	status, page := call(t, "GET", url("/"), "")
	if status != http.StatusOK {
		t.Fatalf("GET / through the gateway = %d", status)
	}
	mustContain(t, "the page", page, "<h1>Pizza</h1>")
	type message struct{ From, Text string }
	var reply message
	// messages' first request to orders resolves orders through the
	// cluster's DNS, where the lab's kernel can drop one of two parallel
	// queries (the conntrack race of UDP through a Service address): the
	// app's 5 s timeout then ends it first, and the bot says so, having
	// placed nothing. Asked again, at most twice.
	for i := 0; i < 3; i++ {
		asked := time.Now()
		callJSON(t, "POST", url("/api/messages"), `{"text":"order diavola"}`, http.StatusOK, &reply)
		t.Logf("the first order took %s", time.Since(asked).Round(time.Millisecond))
		if !strings.Contains(reply.Text, "kitchen is not answering") {
			break
		}
		t.Logf("the bot did not reach orders (try %d): %s", i+1, reply.Text)
	}
	if reply.From != "bot" || reply.Text != `Order #1 placed: diavola. Say "status 1" to follow it.` {
		t.Errorf("bot reply = %+v", reply)
	}
	type order struct {
		ID       int
		Pizza    string
		Quantity int
		Status   string
	}
	want := order{1, "diavola", 1, "received"}
	var list []order
	callJSON(t, "GET", url("/api/orders"), "", http.StatusOK, &list)
	if len(list) != 1 || list[0] != want {
		t.Errorf("orders = %+v, want [%+v]", list, want)
	}
	mustContain(t, "stack ps", stack.MustRun(t, "ps", "--env", "lab").Stdout, "TRAFFIC", "stack-gateway-", "gateway", "web-", "orders-0", "/api/messages", "/api/orders")

	plan := stack.MustRun(t, "plan", "--env", "lab")
	for _, line := range strings.Split(strings.TrimSpace(plan.Stdout), "\n") {
		if !strings.Contains(line, "unchanged") {
			t.Errorf("plan after up: %q changes something", line)
		}
	}

	// web and messages keep no data: each rolled out a new pod ready
	// before the old one drains, behind the gateway.
	client := startLoad(url("/"), url("/api/messages"))
	start = time.Now()
	changed := stack
	changed.Env = append(append([]string{}, stack.Env...), "REV=2")
	out := changed.MustRun(t, "up", "--env", "lab", "--timeout", "300s")
	// web's pods that are not stopping (the old one drains a while)
	webPods := func() []string {
		var out []string
		for _, l := range strings.Split(lab.Kubectl(t, "-n", ns, "get", "pod", "-l", "io.stack.service=web", "-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\n"}{end}`), "\n") {
			if f := strings.Fields(l); len(f) == 1 {
				out = append(out, f[0])
			}
		}
		return out
	}
	before := webPods()
	changed.MustRun(t, "up", "--env", "lab", "--timeout", "300s", "--no-deps", "--force-recreate", "web", "messages")
	took := time.Since(start)
	if after := webPods(); len(before) != 1 || len(after) != 1 || after[0] == before[0] {
		t.Errorf("--force-recreate: web's pods %v before, %v after; want one replaced", before, after)
	}
	ok, failed, failures := client.stop()
	t.Logf("redeploys of web and messages (a changed env, then --force-recreate): %s, %d requests answered, %d failed", took.Round(100*time.Millisecond), ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("redeploys of web and messages: %d requests failed, %d answered; want none failed:\n%s", failed, ok, failures)
	}
	if strings.Contains(out.Stdout+out.Stderr, "gateway") && strings.Contains(out.Stdout+out.Stderr, "deployment:stack-gateway") {
		t.Errorf("a redeploy of services rolled the gateway, whose routes did not change:\n%s", out.Stderr)
	}
	if got := lab.Kubectl(t, "-n", ns, "get", "deploy/web", "-o", `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="REV")].value}`); got != "2" {
		t.Errorf("web's REV after the redeploy = %q, want 2", got)
	}

	// A new route: the gateway's config changes, and it rolls a new pod
	// in before the old one drains.
	routed := strings.Replace(r.Replace(string(compose)), "route: {path: /, port: 8080}", "route: [{path: /, port: 8080}, {path: /shop, port: 8080, strip_prefix: true}]", 1)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + routed})
	mustContain(t, "plan after a new route", changed.MustRun(t, "plan", "--env", "lab").Stdout, "reload", "/shop -> web:8080")
	client = startLoad(url("/"), url("/api/messages"))
	start = time.Now()
	changed.MustRun(t, "up", "--env", "lab", "--timeout", "300s")
	took = time.Since(start)
	// the load goes on while the old gateway pod drains, until it is gone
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if pods := lab.Kubectl(t, "-n", ns, "get", "pod", "-l", "io.stack.gateway", "-o", "name"); !strings.Contains(pods, "\n") {
			break
		}
	}
	ok, failed, failures = client.stop()
	t.Logf("the gateway rolled for a new route: %s, %d requests answered, %d failed", took.Round(100*time.Millisecond), ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("the gateway's roll: %d requests failed, %d answered; want none failed:\n%s", failed, ok, failures)
	}
	if status, page := call(t, "GET", url("/shop/"), ""); status != http.StatusOK || !strings.Contains(page, "<h1>Pizza</h1>") {
		t.Errorf("GET /shop/ through the new route = %d", status)
	}

	stack.MustRun(t, "down", "--env", "lab")
	if left := lab.Kubectl(t, "-n", ns, "get", "deploy,statefulset,service,configmap", "-l", "io.stack.project", "-o", "name"); left != "" {
		t.Errorf("after down: %s", left)
	}
	changed.MustRun(t, "up", "--env", "lab", "--timeout", "300s")
	nodePortAnswers(t, url("/"))
	var one order
	callJSON(t, "GET", url("/api/orders/1"), "", http.StatusOK, &one)
	if one != want {
		t.Errorf("after down and up: order 1 = %+v, want %+v (the orders claim)", one, want)
	}
}

func pair(a, b string) []string { return []string{a, b} }

// nodePortAnswers waits until url's NodePort takes connections, at most 40
// tries in 15 s, and logs how long that took: kube-proxy writes a new
// Service's rules on the node a second or two after its pod is ready (it
// syncs at most once a second), so a NodePort refuses connections for a
// while after `up` has seen the gateway ready, as it does after `kubectl
// rollout status`.
func nodePortAnswers(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	start := time.Now()
	for i := 0; i < 40 && time.Since(start) < 15*time.Second; i++ {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			t.Logf("the gateway's NodePort answered %s after up", time.Since(start).Round(10*time.Millisecond))
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the gateway's NodePort (%s) took no connection in %s after up", url, time.Since(start).Round(time.Second))
}
