package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"

	"github.com/stack-deploy/stack/engine"
)

// cpuAt is a one-shot reading in which the container has used used
// nanoseconds of CPU and the machine's two CPUs system.
func cpuAt(used, system uint64) container.StatsResponse {
	return container.StatsResponse{CPUStats: container.CPUStats{
		CPUUsage: container.CPUUsage{TotalUsage: used}, SystemUsage: system, OnlineCPUs: 2,
	}, MemoryStats: container.MemoryStats{Usage: 1 << 20}}
}

// The engine's one-shot readings carry no previous one: the CPU figure is
// computed against stack's previous reading of the same run of the
// container, a death ends its samples, a start follows it again from a
// first reading without a figure, and an update reads its limits again.
func TestStatsPollComputesCPUAcrossItsOwnReadings(t *testing.T) {
	web := events.Actor{ID: "web1", Attributes: map[string]string{"name": "shop-web-1", engine.LabelService: "web", engine.LabelContainerNumber: "1"}}
	f := &dayTwoClient{
		containers: []container.Summary{{ID: "web1", Names: []string{"/shop-web-1"}, State: "running", Labels: web.Attributes}},
		// 1e8 ns of 1e9 system ns on 2 CPUs, then 3e8 of 1e9: 20%, 60%.
		stats:  map[string][]container.StatsResponse{"web1": {cpuAt(1e8, 1e9), cpuAt(2e8, 2e9), cpuAt(5e8, 3e9)}},
		events: make(chan events.Message),
	}
	d, _ := New(WithClient(f))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan string, 64)
	done := make(chan error, 1)
	go func() {
		done <- d.statsPoll(ctx, "shop", engine.StatsOptions{Stream: true, Interval: 10 * time.Millisecond}, func(s engine.Sample) {
			if s.Gone {
				got <- "gone"
				return
			}
			got <- fmt.Sprintf("%.0f%%", s.CPUPercent)
		})
	}()
	next := func() string { t.Helper(); return nextOf(t, got) }
	var seq []string
	for range 3 {
		seq = append(seq, next())
	}
	f.events <- events.Message{Action: events.ActionDie, Actor: web}
	for g := next(); g != "gone"; g = next() {
		seq = append(seq, g) // readings taken before the event was handled
	}
	seq = append(seq, "gone")
	f.mu.Lock()
	f.oneShots["web1"] = 0 // it runs again from the start
	f.mu.Unlock()
	f.events <- events.Message{Action: events.ActionStart, Actor: web}
	seq = append(seq, next(), next())
	if want := "0% 20% 60%"; strings.Join(seq[:3], " ") != want {
		t.Errorf("first readings %v, want %s", seq[:3], want)
	}
	if tail := strings.Join(seq[len(seq)-3:], " "); tail != "gone 0% 20%" {
		t.Errorf("readings %v: want gone at the death, then 0%% and 20%% for the new run", seq)
	}
	f.events <- events.Message{Action: events.ActionUpdate, Actor: web}
	f.mu.Lock()
	before := f.inspects["web1"]
	f.mu.Unlock()
	if before != 2 {
		t.Errorf("%d inspects for two runs, want one a run (limits are kept between readings)", before)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		n := f.inspects["web1"]
		f.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d inspects after an update event, want its limits read again (3)", n)
		}
		next()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// One-offs and services not asked for are not read; every container the
// project runs is, in each round.
func TestStatsPollReadsOnlyTheSelectedServices(t *testing.T) {
	labels := func(svc, oneoff string) map[string]string {
		return map[string]string{engine.LabelService: svc, engine.LabelContainerNumber: "1", engine.LabelOneoff: oneoff}
	}
	f := &dayTwoClient{
		containers: []container.Summary{
			{ID: "web1", Names: []string{"/shop-web-1"}, State: "running", Labels: labels("web", "false")},
			{ID: "db1", Names: []string{"/shop-db-1"}, State: "running", Labels: labels("db", "false")},
			{ID: "run1", Names: []string{"/shop-web-run-1"}, State: "running", Labels: labels("web", "true")},
		},
		stats:  map[string][]container.StatsResponse{"web1": {cpuAt(1, 1)}, "db1": {cpuAt(1, 1)}, "run1": {cpuAt(1, 1)}},
		events: make(chan events.Message),
	}
	d, _ := New(WithClient(f))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	err := d.statsPoll(ctx, "shop", engine.StatsOptions{Stream: true, Services: []string{"web"}, Interval: 5 * time.Millisecond}, func(s engine.Sample) {
		mu.Lock()
		defer mu.Unlock()
		seen[s.Container.Name]++
		if seen["shop-web-1"] == 3 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || f.oneShots["db1"]+f.oneShots["run1"] != 0 {
		t.Errorf("samples %v, reads %v: want web's only", seen, f.oneShots)
	}
}

// From an engine elsewhere, every second or more often, Stats streams, as
// docker stats; past a second it polls. An engine on this machine is
// polled at every interval (its containers' cgroups are read); one behind
// a unix socket whose container's cgroup cannot be read (here: the fake's
// has no process; Docker Desktop's are in its virtual machine) is
// streamed from at a second, as one elsewhere.
func TestStatsStreamsEverySecondAndPollsPastIt(t *testing.T) {
	for _, tc := range []struct {
		host     string
		interval time.Duration
		want     string
	}{
		{"", 0, "ContainerStats"}, {"", time.Second, "ContainerStats"}, {"", 2 * time.Second, "one-shot"},
		{"unix:///var/run/docker.sock", time.Second, "ContainerStats"},
		{"unix:///var/run/docker.sock", 2 * time.Second, "one-shot"},
	} {
		f := &dayTwoClient{
			host:       tc.host,
			containers: []container.Summary{{ID: "web1", Names: []string{"/shop-web-1"}, State: "running", Labels: map[string]string{engine.LabelService: "web"}}},
			stats:      map[string][]container.StatsResponse{"web1": {cpuAt(1, 1)}},
			events:     make(chan events.Message),
		}
		d, _ := New(WithClient(f))
		ctx, cancel := context.WithCancel(t.Context())
		err := d.Stats(ctx, "shop", engine.StatsOptions{Stream: true, Interval: tc.interval}, func(engine.Sample) { cancel() })
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		got := "one-shot"
		if slices.Contains(f.calls, "ContainerStats web1") {
			got = "ContainerStats"
		}
		if got != tc.want || (got == "one-shot" && f.oneShots["web1"] == 0) {
			t.Errorf("%s, interval %v: read by %s (one-shots %v), want %s", f.DaemonHost(), tc.interval, got, f.oneShots, tc.want)
		}
	}
}
