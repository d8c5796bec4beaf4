package swarm_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/contracttest"
	"github.com/stack-deploy/stack/engine/swarm"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// The Swarm driver passes the driver contract on the lab's three nodes.
// Services use endpoint_mode dnsrr (the lab's kernel has no IPVS) and stop
// within a second; drift is a service removed behind stack's back.
func TestDriverContract(t *testing.T) {
	lab := e2e.Swarm(t)
	d, err := swarm.New(swarm.WithClient(lab.Client(t)))
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, contracttest.Harness{
		Driver:  d,
		Image:   lab.Image(t, "busybox:stable"),
		Extra:   "    stop_grace_period: 1s\n    deploy: {endpoint_mode: dnsrr}\n",
		Project: func(t *testing.T) string { return lab.SwarmProject(t) },
		Images: func(t *testing.T, p *manifest.Project) engine.Images {
			images, err := d.ConfigHashes(p, engine.Images{})
			if err != nil {
				t.Fatal(err)
			}
			return images
		},
		Running: func(t *testing.T, project, service string) int {
			return runningTasks(t, lab, swarm.ServiceName(project, service))
		},
		Drift: func(t *testing.T, project string) {
			lab.Docker(t, 0, "service", "rm", swarm.ServiceName(project, "web"))
		},
	})
}

// runningTasks counts the tasks of a Swarm service that run (none when
// there is no such service).
func runningTasks(t *testing.T, lab *e2e.SwarmLab, service string) int {
	t.Helper()
	n := 0
	for _, state := range strings.Split(lab.Docker(t, 0, "service", "ps", service, "--filter", "desired-state=running", "--format", "{{.CurrentState}}"), "\n") {
		if strings.HasPrefix(state, "Running") {
			n++
		}
	}
	return n
}
