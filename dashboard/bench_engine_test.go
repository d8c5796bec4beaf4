package dashboard_test

import (
	"context"
	"encoding/json"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	dockerclient "github.com/docker/docker/client"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
)

// BenchmarkEngineStatsReadings measures what reading 30 containers' usage
// costs the engine (dockerd, containerd, the shims), by the way it is
// read: a stats stream per container (what `docker stats` and engines
// older than API 1.41 do: a reading a second each), and stack's one-shot
// reads every second and every 5 seconds. It says whether the engine's
// cost is per reading or per request: the figures are in percent of the
// machine beyond the same window with nothing reading (engine-%), and
// in milliseconds of engine CPU per container reading (ms/reading). The
// readers run in the benchmark's process, which is not counted. The
// engine serves others on a shared machine, which blurs figures of a few
// percent: one-shot reads one after another, as fast as the engine
// answers (flat-out), make the engine's cost per reading stand out of
// that noise.
func BenchmarkEngineStatsReadings(b *testing.B) {
	_, project, ids, pids := thirtyServices(b)
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	d, err := docker.New(docker.WithClient(cli))
	if err != nil {
		b.Fatal(err)
	}
	poll := func(every time.Duration) func(context.Context, *atomic.Int64) {
		return func(ctx context.Context, n *atomic.Int64) {
			_ = d.Stats(ctx, project, engine.StatsOptions{Stream: true, Interval: every}, func(engine.Sample) { n.Add(1) })
		}
	}
	modes := []struct {
		name string
		read func(context.Context, *atomic.Int64)
	}{
		{"streams", func(ctx context.Context, n *atomic.Int64) { streamAll(ctx, cli, ids, n) }},
		{"oneshot-1s", poll(time.Second)},
		{"oneshot-5s", poll(5 * time.Second)},
		{"oneshot-flat-out", func(ctx context.Context, n *atomic.Int64) { readFlatOut(ctx, cli, ids, n) }},
	}
	machine := float64(runtime.NumCPU()) * cpuWindow.Seconds() / 100
	added := map[string][]float64{}
	perReading := map[string][]float64{}
	var loads []float64
	b.ResetTimer()
	for range b.N {
		idle := cpuOver(b, pids, cpuWindow)
		for range rounds {
			used, count := map[string]float64{}, map[string]int64{}
			for _, m := range modes {
				ctx, cancel := context.WithCancel(b.Context())
				var n atomic.Int64
				done := make(chan struct{})
				go func() { defer close(done); m.read(ctx, &n) }()
				time.Sleep(warmUp / 2)
				before := n.Load()
				used[m.name] = cpuOver(b, pids, cpuWindow)
				count[m.name] = n.Load() - before
				cancel()
				<-done
			}
			next := cpuOver(b, pids, cpuWindow)
			mean := (idle + next) / 2
			idle = next
			for name, u := range used {
				added[name] = append(added[name], (u-mean)/machine)
				perReading[name] = append(perReading[name], (u-mean)*1000/float64(max(count[name], 1)))
			}
			loads = append(loads, loadAverage(b))
		}
	}
	b.StopTimer()
	for _, m := range modes {
		b.ReportMetric(median(added[m.name]), m.name+"-engine-%")
		b.ReportMetric(median(perReading[m.name]), m.name+"-ms/reading")
	}
	b.ReportMetric(median(loads), "load1")
}

// streamAll reads a stats stream of each of ids until ctx ends, counting
// the readings.
func streamAll(ctx context.Context, cli *dockerclient.Client, ids []string, n *atomic.Int64) {
	done := make(chan struct{}, len(ids))
	for _, id := range ids {
		go func() {
			defer func() { done <- struct{}{} }()
			r, err := cli.ContainerStats(ctx, id, true)
			if err != nil {
				return
			}
			defer r.Body.Close()
			dec := json.NewDecoder(r.Body)
			for {
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return // ctx ended, or the container stopped
				}
				n.Add(1)
			}
		}()
	}
	for range ids {
		<-done
	}
}

// readFlatOut reads ids' usage with one-shot reads, one after another,
// until ctx ends, counting the readings.
func readFlatOut(ctx context.Context, cli *dockerclient.Client, ids []string, n *atomic.Int64) {
	for ctx.Err() == nil {
		for _, id := range ids {
			r, err := cli.ContainerStatsOneShot(ctx, id)
			if err != nil {
				continue
			}
			var v json.RawMessage
			err = json.NewDecoder(r.Body).Decode(&v)
			r.Body.Close()
			if err == nil {
				n.Add(1)
			}
		}
	}
}
