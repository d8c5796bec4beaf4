package swarm_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/internal/e2e"
)

const benchWide, benchDeep = e2e.DAGWide, e2e.DAGDeep

// layeredDAG is the shared layered DAG (e2e.LayeredDAG) on a Swarm: the
// short depends_on form and no top-level name, so that docker stack deploy
// takes the very same file (it refuses the long form, and ignores the
// order).
func layeredDAG(image, host string) string {
	return e2e.LayeredDAG(e2e.DAG{Image: image, Short: true,
		Extra: "    init: true\n    stop_grace_period: 1s\n    deploy: {endpoint_mode: dnsrr}\n"}) +
		fmt.Sprintf("x-stack:\n  environments:\n    cluster: {orchestrator: swarm, host: %q}\n", host)
}

// BenchmarkLayeredDAGOnSwarm measures, on the lab's three nodes, `stack up`
// of the 30-service DAG (cold: it returns once every task runs, each layer
// created once the one above runs), `stack up` again (nothing changed: it
// must update no service), loading the manifest as CI does and then from
// the model cache as a user's runs do, and `stack down`, and in the same run docker
// stack deploy of the same file: cold, and then the wait until every task
// runs (it creates all services at once, ignoring depends_on, and returns
// at once); and again, with the wait until the updates it makes of every
// service are complete. It reports seconds, the service updates stack's
// no-ops made (both), and the ratios stack/docker. (docker stack deploy --detach=false
// waits itself, verifying each service in turn for seconds: minutes for
// this DAG, so it is left out.) Run it with `make bench` or
// go test ./engine/swarm -run '^$' -bench LayeredDAGOnSwarm -benchtime 1x
func BenchmarkLayeredDAGOnSwarm(b *testing.B) {
	lab := e2e.Swarm(b)
	e2e.Binary(b) // built before the clock runs
	image := lab.Image(b, "busybox:stable")
	file := layeredDAG(image, lab.Host)
	cli := lab.Client(b)
	var up, noop, noopCached, down, dsUp, dsConverged, dsNoop, dsNoopDone time.Duration
	var updates, dsUpdates int
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		e2e.WriteFiles(b, dir, map[string]string{"compose.yaml": file})

		project := lab.SwarmProject(b)
		stack := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster", "COMPOSE_PROJECT_NAME=" + project}}
		deployed := "label=" + e2e.Label + "=" + project + "-cluster" // the environment's own project
		b.Cleanup(func() {
			if err := lab.RemoveProject(b, project+"-cluster"); err != nil {
				b.Error(err)
			}
		})
		up += timed(func() { stack.MustRun(b, "up") })
		before := specVersions(b, cli, deployed)
		noop += timed(func() { stack.MustRun(b, "up") })
		updates += changedVersions(before, specVersions(b, cli, deployed))
		// As a user runs it, outside CI: the model from stack's cache.
		cached := stack
		cached.Env = append(slices.Clone(stack.Env), "STACK_CACHE=on", "XDG_CACHE_HOME="+b.TempDir())
		cached.MustRun(b, "up")
		before = specVersions(b, cli, deployed)
		noopCached += timed(func() { cached.MustRun(b, "up") })
		updates += changedVersions(before, specVersions(b, cli, deployed))
		down += timed(func() { stack.MustRun(b, "down") })

		name := "dsd" + project[len(project)-6:]
		namespace := "label=com.docker.stack.namespace=" + name
		b.Cleanup(func() { removeStack(b, lab, name) })
		deploy := func() {
			cmd := exec.Command("docker", "-H", lab.Host, "stack", "deploy", "-c", filepath.Join(dir, "compose.yaml"), "--resolve-image", "never", name)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("docker stack deploy: %v\n%s", err, out)
			}
		}
		start := time.Now()
		deploy()
		dsUp += time.Since(start)
		converge(b, cli, namespace, func(s swarm.Service) bool { return s.ServiceStatus.RunningTasks == 1 })
		dsConverged += time.Since(start)
		before = specVersions(b, cli, namespace)
		start = time.Now()
		deploy()
		dsNoop += time.Since(start)
		converge(b, cli, namespace, func(s swarm.Service) bool {
			return s.UpdateStatus == nil || s.UpdateStatus.State == swarm.UpdateStateCompleted
		})
		dsNoopDone += time.Since(start)
		dsUpdates += changedVersions(before, specVersions(b, cli, namespace))
		removeStack(b, lab, name)
	}
	n := float64(b.N)
	b.ReportMetric(up.Seconds()/n, "up-s")
	b.ReportMetric(noop.Seconds()/n, "noop-up-s")
	b.ReportMetric(noopCached.Seconds()/n, "noop-cached-up-s")
	b.ReportMetric(float64(updates)/n, "noop-updates")
	b.ReportMetric(down.Seconds()/n, "down-s")
	b.ReportMetric(dsUp.Seconds()/n, "docker-deploy-s")
	b.ReportMetric(dsConverged.Seconds()/n, "docker-running-s")
	b.ReportMetric(dsNoop.Seconds()/n, "docker-noop-s")
	b.ReportMetric(dsNoopDone.Seconds()/n, "docker-noop-done-s")
	b.ReportMetric(float64(dsUpdates)/n, "docker-noop-updates")
	b.ReportMetric(up.Seconds()/dsConverged.Seconds(), "up/docker-running")
	b.ReportMetric(noop.Seconds()/dsNoop.Seconds(), "noop/docker-noop")
	b.ReportMetric(noop.Seconds()/dsNoopDone.Seconds(), "noop/docker-noop-done")
	b.ReportMetric(noopCached.Seconds()/dsNoop.Seconds(), "noop-cached/docker-noop")
}

// converge polls, every 50ms for up to five minutes, until every service
// filter selects is as done says.
func converge(b *testing.B, cli *client.Client, filter string, done func(swarm.Service) bool) {
	b.Helper()
	k, v, _ := strings.Cut(filter, "=")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		services, err := cli.ServiceList(b.Context(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg(k, v)), Status: true})
		if err != nil {
			b.Fatal(err)
		}
		all := len(services) == benchWide*benchDeep
		for _, s := range services {
			all = all && s.ServiceStatus != nil && done(s)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the services of %s did not converge in five minutes", filter)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// specVersions maps the services filter selects to their spec versions.
func specVersions(b *testing.B, cli *client.Client, filter string) map[string]uint64 {
	b.Helper()
	k, v, _ := strings.Cut(filter, "=")
	services, err := cli.ServiceList(b.Context(), swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg(k, v))})
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]uint64{}
	for _, s := range services {
		out[s.Spec.Name] = s.Version.Index
	}
	if len(out) != benchWide*benchDeep {
		b.Fatalf("%d services, want %d", len(out), benchWide*benchDeep)
	}
	return out
}

// changedVersions counts the services whose spec version moved: updates.
func changedVersions(before, after map[string]uint64) int {
	n := 0
	for name, v := range after {
		if before[name] != v {
			n++
		}
	}
	return n
}

// removeStack removes a docker stack and waits, up to a minute, until its
// services and network are gone.
func removeStack(b *testing.B, lab *e2e.SwarmLab, name string) {
	b.Helper()
	lab.Docker(b, 0, "stack", "rm", name)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if lab.Docker(b, 0, "service", "ls", "-q", "--filter", "label=com.docker.stack.namespace="+name)+
			lab.Docker(b, 0, "network", "ls", "-q", "--filter", "label=com.docker.stack.namespace="+name) == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Errorf("docker stack %s is still there a minute after docker stack rm", name)
}
