package docker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
)

const benchWide, benchDeep = e2e.DAGWide, e2e.DAGDeep

// layeredDAG is the shared layered DAG (e2e.LayeredDAG) of busybox
// services, each under an init.
func layeredDAG() string {
	return e2e.LayeredDAG(e2e.DAG{Image: "busybox:stable", Extra: "    init: true\n"})
}

// BenchmarkLayeredDAG measures `stack up` (cold), `stack up` (nothing
// changed; noop-lock-s is its deploy lock's share) and `stack down` on a 6 wide x 5 deep DAG of 30 busybox services,
// and in the same run the engine floor: the same containers created and
// started straight through the API, layer by layer, each layer in parallel,
// then stopped and removed the same way; and Docker Compose's `up -d` (cold,
// then nothing changed) and `down` of the same file. It reports seconds and
// the ratios stack/floor and stack/Compose. Run it with `make bench` or
// go test ./engine/docker -run '^$' -bench LayeredDAG -benchtime 3x
func BenchmarkLayeredDAG(b *testing.B) {
	e2e.Engine(b)
	e2e.Binary(b) // built before the clock runs
	c, err := dockerclient.New()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var up, noop, noopLoad, noopEngine, noopLock, down, floorUp, floorDown time.Duration
	var composeUp, composeNoop, composeDown time.Duration
	for i := 0; i < b.N; i++ {
		name := e2e.ProjectName(b)
		dir := b.TempDir()
		write(b, dir, "name: "+name+"\n"+layeredDAG())
		cmd := e2e.Cmd{Dir: dir}

		up += timed(func() { cmd.MustRun(b, "up") })
		noop += timed(func() { cmd.MustRun(b, "up") })
		l, e := noopInProcess(ctx, b, c, dir)
		noopLoad += l
		noopEngine += e
		noopLock += lockInProcess(ctx, b, c, name)
		down += timed(func() { cmd.MustRun(b, "down") })

		fu, fd := floor(ctx, b, c, name+"floor")
		floorUp += fu
		floorDown += fd

		cu, cn, cd := compose(b, dir)
		composeUp += cu
		composeNoop += cn
		composeDown += cd
	}
	n := float64(b.N)
	b.ReportMetric(up.Seconds()/n, "up-s")
	b.ReportMetric(noop.Seconds()/n, "noop-up-s")
	b.ReportMetric(noopLoad.Seconds()/n, "noop-load-s")
	b.ReportMetric(noopEngine.Seconds()/n, "noop-engine-s")
	b.ReportMetric(noopLock.Seconds()/n, "noop-lock-s")
	b.ReportMetric(down.Seconds()/n, "down-s")
	b.ReportMetric(floorUp.Seconds()/n, "floor-up-s")
	b.ReportMetric(floorDown.Seconds()/n, "floor-down-s")
	b.ReportMetric(up.Seconds()/floorUp.Seconds(), "up/floor")
	b.ReportMetric(down.Seconds()/floorDown.Seconds(), "down/floor")
	b.ReportMetric(composeUp.Seconds()/n, "compose-up-s")
	b.ReportMetric(composeNoop.Seconds()/n, "compose-noop-up-s")
	b.ReportMetric(composeDown.Seconds()/n, "compose-down-s")
	b.ReportMetric(up.Seconds()/composeUp.Seconds(), "up/compose")
	b.ReportMetric(noop.Seconds()/composeNoop.Seconds(), "noop/compose")
	b.ReportMetric(down.Seconds()/composeDown.Seconds(), "down/compose")
}

// compose runs the reference Docker Compose (e2e.Compose: scripts/compose.sh
// installs it) on the same file, under a project of its own, on the engine
// DOCKER_HOST names: `up -d` cold and again with nothing changed, then
// `down`. `up -d` returns once every container is started, as `stack up`
// does for services without a healthcheck.
func compose(b *testing.B, dir string) (up, noop, down time.Duration) {
	dc := e2e.NewComposeProject(b, dir)
	up = timed(func() { dc.MustRun(b, "up", "-d") })
	noop = timed(func() { dc.MustRun(b, "up", "-d") })
	down = timed(func() { dc.MustRun(b, "down") })
	return up, noop, down
}

// noopInProcess repeats the no-op `up` in process to split its time: loading
// the manifest (compose-go), and the rest (images, address injection,
// observe, diff, apply), which must make no engine changes: the path `up`
// takes.
func noopInProcess(ctx context.Context, b *testing.B, c *client.Client, dir string) (load, rest time.Duration) {
	var p *manifest.Project
	load = timed(func() {
		var err error
		if p, err = manifest.Load(ctx, manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}}); err != nil {
			b.Fatal(err)
		}
	})
	rest = timed(func() {
		d, err := docker.New(docker.WithClient(c))
		if err != nil {
			b.Fatal(err)
		}
		builder, err := image.New(image.WithClient(c))
		if err != nil {
			b.Fatal(err)
		}
		target := deploy.New(d, builder.Ensure)
		plan, err := target.Plan(ctx, p, deploy.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if plan.Changes() != 0 {
			b.Fatalf("no-op up would change:\n%s", plan.Text())
		}
		if err := engine.Apply(ctx, d, plan, engine.ApplyOptions{}); err != nil {
			b.Fatal(err)
		}
	})
	return load, rest
}

// lockInProcess takes and releases the project's deploy lock, as every
// `up` does around its work: the share of the no-op `up` that is the lock.
func lockInProcess(ctx context.Context, b *testing.B, c *client.Client, project string) time.Duration {
	return timed(func() {
		l, err := lock.Acquire(ctx, c, project, lock.Options{Holder: lock.Me("benchmark")})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			b.Fatal(err)
		}
	})
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// floor creates, starts, stops and removes the DAG's containers directly
// through the API with the same settings stack uses (labels, init, one
// network), layer by layer in parallel, and returns how long up and down took.
func floor(ctx context.Context, b *testing.B, c docker.Client, project string) (up, down time.Duration) {
	b.Cleanup(func() { e2e.RemoveProject(b, project) })
	labels := map[string]string{e2e.Label: project}
	init := true
	layers := make([][]string, benchDeep)
	var net string
	up = timed(func() {
		resp, err := c.NetworkCreate(ctx, project+"_default", network.CreateOptions{Labels: labels})
		if err != nil {
			b.Fatal(err)
		}
		net = resp.ID
		for l := range layers {
			layers[l] = make([]string, benchWide)
			parallel(b, benchWide, func(i int) error {
				name := fmt.Sprintf("%s-s%d%d-1", project, l, i)
				created, err := c.ContainerCreate(ctx,
					&container.Config{Image: "busybox:stable", Cmd: []string{"sleep", "3600"}, Labels: labels},
					&container.HostConfig{Init: &init, NetworkMode: container.NetworkMode(project + "_default")},
					&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
						project + "_default": {Aliases: []string{fmt.Sprintf("s%d%d", l, i)}},
					}}, nil, name)
				if err != nil {
					return err
				}
				layers[l][i] = created.ID
				return c.ContainerStart(ctx, created.ID, container.StartOptions{})
			})
		}
	})
	down = timed(func() {
		for l := len(layers) - 1; l >= 0; l-- {
			parallel(b, benchWide, func(i int) error {
				if err := c.ContainerStop(ctx, layers[l][i], container.StopOptions{}); err != nil {
					return err
				}
				return c.ContainerRemove(ctx, layers[l][i], container.RemoveOptions{Force: true})
			})
		}
		// Engine 20.10, loaded, may still hold a removed container's
		// endpoint for a moment.
		err := c.NetworkRemove(ctx, net)
		for deadline := time.Now().Add(5 * time.Second); err != nil && strings.Contains(err.Error(), "active endpoints") && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			err = c.NetworkRemove(ctx, net)
		}
		if err != nil {
			b.Fatal(err)
		}
	})
	return up, down
}

func parallel(b *testing.B, n int, f func(int) error) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(i) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}
