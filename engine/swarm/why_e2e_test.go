package swarm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

const whyCompose = `
name: %[1]s
services:
  big:
    image: %[2]s
    command: [sleep, "3600"]
    deploy: {endpoint_mode: dnsrr, resources: {reservations: {memory: 1000G}}}
  gone:
    image: %[3]s/library/nothere@sha256:1111111111111111111111111111111111111111111111111111111111111111
    command: [sleep, "3600"]
    deploy: {endpoint_mode: dnsrr}
  sick:
    image: %[2]s
    init: true
    command: [sleep, "3600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
    stop_grace_period: 1s
    deploy: {endpoint_mode: dnsrr}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[4]s", project: "%[1]s"}
`

// TestTasksThatCannotRunSayWhy: up reports, per service, why its tasks do
// not run, and fails with it: no node has the memory reserved (until
// --timeout), the image cannot be pulled (after three tasks failed), the
// healthcheck fails (each failed task saying so; Swarm restarts them five
// seconds apart, so the timeout ends it). Independent services fail on
// their own.
func TestTasksThatCannotRunSayWhy(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf(whyCompose, project, lab.Image(t, "busybox:stable"), lab.Registry, lab.Host)})
	up := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster"}}.Run(t, "up", "--timeout", "20s")
	if up.Code != 1 {
		t.Fatalf("up: exit %d, want 1", up.Code)
	}
	for _, want := range []string{
		`service "big": not started after 20s (--timeout)`, "pending: no suitable node (insufficient resources on 3 nodes)",
		`service "gone": task failed: 3 of its tasks failed`, "rejected: No such image: " + lab.Registry + "/library/nothere@sha256:1111",
		`service "sick": `, "failed: task: non-zero exit (143): dockerexec: unhealthy container",
	} {
		if !strings.Contains(up.Stderr, want) {
			t.Errorf("up's errors do not say %q", want)
		}
	}
}
