package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// rollbackCompose is web, ready once its command has made /ready, and
// db, which web depends on; VERSION and READY are the variables each step
// changes, UPDATE the deploy.update_config it runs under.
const rollbackCompose = `name: NAME
services:
  db:
    image: IMAGE
    command: [sleep, "3600"]
    environment: {VERSION: "V_N"}
    stop_grace_period: 1s
  web:
    image: IMAGE
    command: [sh, -c, "READY sleep 3600"]
    environment: {VERSION: "V_N"}
    healthcheck: {test: [CMD, test, -f, /ready], interval: 1s}
    stop_grace_period: 1s
    depends_on: [db]
UPDATE
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: NAME}
`

// TestNeverReadyRolledBack: a new version that never becomes ready is
// undone, under --atomic and under update_config.failure_action: rollback,
// and the old version serves again.
//
// Model: rollbackCompose, v1 ready (its command makes /ready).
//
// Steps, once with `up --atomic` (db and web both change) and once with
// failure_action: rollback on web alone (only web changes):
// up v1 -> ready; up v2, whose web never makes /ready, --timeout 25s
// -> exit 1 naming web's pod, its readiness probe failing and what was
// rolled back -> the Deployments' templates carry v1 again, their pods are
// ready, no pod of v2 is left, and plan shows the v2 change still to make.
func TestNeverReadyRolledBack(t *testing.T) {
	lab := e2e.Kube(t)
	image := lab.Image(t, "busybox:stable")
	for _, tc := range []struct {
		name, update string
		args         []string
		changed      []string // the Deployments v2 changes, each rolled back
	}{
		{name: "atomic", args: []string{"--atomic"}, changed: []string{"db", "web"}},
		{name: "failure_action", update: "    deploy: {update_config: {failure_action: rollback}}", changed: []string{"web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := lab.KubeProject(t)
			dir := t.TempDir()
			write := func(version string, ready bool) {
				r := strings.NewReplacer("NAME", ns, "IMAGE", image, "UPDATE", tc.update, "READY", map[bool]string{true: "touch /ready;", false: ""}[ready])
				compose := r.Replace(rollbackCompose)
				// db changes only under --atomic: the other case shows a
				// failure undoing web alone.
				dbVersion := "1"
				if len(tc.changed) > 1 {
					dbVersion = version
				}
				compose = strings.Replace(compose, `V_N`, dbVersion, 1)
				compose = strings.Replace(compose, `V_N`, version, 1)
				e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": compose})
			}
			stack := e2e.Cmd{Dir: dir, Env: lab.Env()}
			write("1", true)
			stack.MustRun(t, "up", "--env", "lab", "--timeout", "3m")

			write("2", false)
			r := stack.Run(t, append([]string{"up", "--env", "lab", "--timeout", "25s"}, tc.args...)...)
			if r.Code != 1 {
				t.Fatalf("up of a never-ready version: exit %d, want 1\n%s", r.Code, r.Stderr)
			}
			for _, want := range []string{"pod web-", "Readiness probe failed", "deployment web back to its previous revision"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("up's error lacks %q:\n%s", want, r.Stderr)
				}
			}
			for _, d := range tc.changed {
				env := lab.Kubectl(t, "-n", ns, "get", "deploy", d, "-o", `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="VERSION")].value}`)
				if env != "1" {
					t.Errorf("after the rollback deployment %s's template has VERSION=%q, want 1", d, env)
				}
				if ready := lab.Kubectl(t, "-n", ns, "get", "deploy", d, "-o", "jsonpath={.status.readyReplicas}/{.status.replicas}"); ready != "1/1" {
					t.Errorf("after the rollback deployment %s has ready/replicas %s, want 1/1", d, ready)
				}
			}
			pods := lab.Kubectl(t, "-n", ns, "get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.containers[0].env[?(@.name=="VERSION")].value} {.metadata.deletionTimestamp}{"\n"}{end}`)
			for _, line := range strings.Split(pods, "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[1] == "2" {
					t.Errorf("a pod of v2 is left after the rollback: %s\n%s", f[0], pods)
				}
			}
			plan := stack.Run(t, "plan", "--env", "lab", "--detailed-exitcode")
			if plan.Code != 2 || !strings.Contains(plan.Stdout, "service:web") {
				t.Errorf("plan after the rollback: exit %d, want 2 with web to update\n%s", plan.Code, plan.Stdout)
			}
		})
	}
}
