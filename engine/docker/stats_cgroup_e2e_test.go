package docker

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/e2e"
)

// TestCgroupReadingsAgreeWithTheEngine: an engine on this machine (the
// suite's, through its unix socket) is not asked for its containers'
// usage: stack reads their cgroups and network namespaces, and finds the
// engine's own figures there.
//
// Model: held (64 MiB limit, holds 16 MB, pinged its gateway 10 times
// with 1000-byte packets, then sleeps); host (host network, sleeps); busy
// (spins, cpus: 0.2).
//
//	readsCgroups, target(held)   -> its cgroup (the engine is local)
//	its reading, the engine's    -> the same CPU time, memory, limit, processes, bytes received
//	the engine's stream of it    -> the same figures (how an engine elsewhere is read)
//	target(host)                 -> a cgroup, no network figures (docker stats has none)
//	busy (cpus: 0.2), read once  -> some CPU, 20% of one at most
//	a process not the container's -> no cgroup
func TestCgroupReadingsAgreeWithTheEngine(t *testing.T) {
	e2e.Engine(t)
	project := e2e.ProjectName(t)
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !d.local() {
		t.Fatalf("the engine at %s is not taken for this machine's", d.client.DaemonHost())
	}
	label := "--label=" + e2e.Label + "=" + project
	held := e2e.Docker(t, "run", "-d", label, "--memory", "64m", "busybox:stable", "sh", "-c",
		`x=$(head -c 16000000 /dev/zero | tr '\0' a); ping -q -c 10 -i 0.2 -s 1000 $(ip route | awk '/default/ {print $3}'); touch /pinged; sleep 3600; echo ${#x}`)
	host := e2e.Docker(t, "run", "-d", label, "--network", "host", "busybox:stable", "sleep", "3600")
	busy := e2e.Docker(t, "run", "-d", label, "--cpus", "0.2", "busybox:stable", "sh", "-c", "while :; do :; done")
	e2e.Docker(t, "exec", held, "sh", "-c", "for i in $(seq 100); do [ -e /pinged ] && exit 0; sleep 0.1; done; exit 1")

	ctx := t.Context()
	if !d.readsCgroups(ctx, project, engine.StatsOptions{}) {
		t.Error("the project's containers are not read from their cgroups")
	}
	c := engine.Container{ID: held, Name: "held"}
	tg, err := d.target(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if tg.local == nil {
		t.Fatal("no cgroup for a container of the engine on this machine")
	}
	ours, err := tg.local.read()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := d.readOnce(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	mine, engines := sampleOf(c, tg.lim, ours), sampleOf(c, tg.lim, theirs)
	t.Logf("stack's reading: %+v\nthe engine's: %+v", ours, theirs)
	cpu := func(v reading) float64 { return float64(v.CPUStats.CPUUsage.TotalUsage) / 1e6 }
	if diff := math.Abs(cpu(ours) - cpu(theirs)); diff > 50 {
		t.Errorf("CPU time %.1f ms, the engine's %.1f ms (an idle container)", cpu(ours), cpu(theirs))
	}
	if mine.MemoryUsage < 16e6 || math.Abs(float64(mine.MemoryUsage)-float64(engines.MemoryUsage)) > 2<<20 {
		t.Errorf("memory %d bytes, the engine's %d, want both 16 MB or more and within 2 MiB", mine.MemoryUsage, engines.MemoryUsage)
	}
	if mine.MemoryLimit != 64<<20 || engines.MemoryLimit != 64<<20 || !mine.MemoryLimited {
		t.Errorf("memory limit %d (limited: %v), the engine's %d, want 64 MiB", mine.MemoryLimit, mine.MemoryLimited, engines.MemoryLimit)
	}
	if mine.PIDs != engines.PIDs || mine.PIDs == 0 {
		t.Errorf("%d processes, the engine's %d", mine.PIDs, engines.PIDs)
	}
	if mine.NetRx < 10*1000 || !near(mine.NetRx, engines.NetRx) || !near(mine.NetTx, engines.NetTx) {
		t.Errorf("network %d bytes in and %d out, the engine's %d and %d, want 10 pings' worth in", mine.NetRx, mine.NetTx, engines.NetRx, engines.NetTx)
	}
	if mine.CPUs != engines.CPUs {
		t.Errorf("%d CPUs, the engine's %d", mine.CPUs, engines.CPUs)
	}

	// An engine elsewhere is followed through its streams, as docker
	// stats does: the same figures.
	streamed := make(chan engine.Sample, 16)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- d.statsStream(sctx, project, engine.StatsOptions{Stream: true}, func(s engine.Sample) {
			if s.Container.ID == held && !s.Gone {
				streamed <- s
			}
		})
	}()
	for i := range 2 {
		select {
		case s := <-streamed:
			if i == 1 && (math.Abs(float64(s.MemoryUsage)-float64(mine.MemoryUsage)) > 2<<20 || !near(s.NetRx, mine.NetRx) || s.PIDs != mine.PIDs) {
				t.Errorf("the engine's stream: %+v, want the figures read from the cgroup: %+v", s, mine)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d samples of the engine's stream in 10s, want 2", i)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	hc := engine.Container{ID: host, Name: "host"}
	ht, err := d.target(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	if ht.local == nil || ht.local.net != nil {
		t.Fatalf("host-network container: cgroup %v, want one without network figures", ht.local)
	}
	hv, err := ht.local.read()
	if err != nil {
		t.Fatal(err)
	}
	hev, err := d.readOnce(ctx, hc, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs, hes := sampleOf(hc, ht.lim, hv), sampleOf(hc, ht.lim, hev)
	if hs.NetRx != 0 || hes.NetRx != 0 || hs.MemoryLimit != hes.MemoryLimit || hs.MemoryLimited {
		t.Errorf("host-network container: %+v, the engine's %+v: want no network figures, the machine's memory as limit", hs, hes)
	}

	// stack stats --no-stream: two readings a second apart.
	bs, err := d.sampleOnce(ctx, engine.Container{ID: busy, Name: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	if bs.CPUPercent < 1 || bs.CPUPercent > 30 || bs.CPULimit != 0.2 {
		t.Errorf("busy (cpus: 0.2) at %.1f%% of a CPU (limit %v), want some and at most about 20", bs.CPUPercent, bs.CPULimit)
	}

	if _, err := openCgroup(strings.Repeat("a", 64), os.Getpid(), false); err == nil {
		t.Error("the test's own process was taken for a container's")
	}
}

// near is whether two counts of a container's network bytes, read at
// moments apart, agree: a stray packet (a neighbour's ARP) may come in
// between.
func near(a, b uint64) bool { return max(a, b)-min(a, b) <= 1024 }
