package cli_test

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestStatsStreamE2E: `stack stats --format json`, streaming, on the real
// engine, which stack reads with one-shot requests every --interval.
//
// Model: busy (a shell spinning, cpus: 0.2) and idle (sleeping).
//
//	stack stats --format json              -> a line per container about every second; busy's
//	                                          CPU computed from stack's own previous reading:
//	                                          some, 20% of one CPU at most; idle's near 0
//	stack stats --format json --interval 3s -> readings of a container 3s apart
//	stack scale idle=2 meanwhile           -> the new container is read too
//	stack stats --no-stream in a PID namespace of its own (as in a container with the socket
//	                                          mounted: the containers' cgroups out of sight)
//	                                       -> read through the engine: busy's CPU, memory, processes
func TestStatsStreamE2E(t *testing.T) {
	e2e.Engine(t)
	dir := t.TempDir()
	project := e2e.ProjectName(t)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + project + `
services:
  busy:
    image: busybox:stable
    init: true
    cpus: 0.2
    command: ["sh", "-c", "while :; do :; done"]
  idle:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
`})
	stack := e2e.Cmd{Dir: dir}
	stack.MustRun(t, "up")

	t.Run("every second", func(t *testing.T) {
		lines := statsLines(t, dir, "stats", "--format", "json")
		busy := waitReadings(t, lines, project+"-busy-1", 4)
		for _, r := range busy[1:] { // the first has nothing to compare with
			// At most its limit, 20% (less when the machine is busy:
			// others' work shares the CPUs), and measured: not 0.
			if r.CPUPercent < 1 || r.CPUPercent > 30 {
				t.Errorf("busy at %.1f%% of a CPU, want some and at most about 20 (its limit): %+v", r.CPUPercent, busy)
			}
			if r.Memory == 0 || r.PIDs == 0 || math.Abs(r.CPULimit-0.2) > 1e-6 {
				t.Errorf("busy's reading lacks memory, processes or its limit: %+v", r)
			}
		}
		if gap := meanGap(busy); gap < 500*time.Millisecond || gap > 2*time.Second {
			t.Errorf("readings %v apart, want about a second: %+v", gap, busy)
		}
		idle := waitReadings(t, lines, project+"-idle-1", 3)
		if idle[2].CPUPercent > 5 {
			t.Errorf("idle at %.1f%% of a CPU: %+v", idle[2].CPUPercent, idle)
		}
		stack.MustRun(t, "scale", "idle=2")
		waitReadings(t, lines, project+"-idle-2", 2)
	})

	// stack in a PID namespace of its own (as in a container with the
	// engine's socket mounted) cannot see the containers' processes: it
	// asks the engine, and the figures are the same.
	t.Run("in a PID namespace of its own", func(t *testing.T) {
		cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", e2e.Binary(t), "stats", "--no-stream", "--format", "json")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("stack stats --no-stream in a PID namespace: %v\n%s", err, out)
		}
		var busy []statReading
		for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
			var r statReading
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("not JSON: %q", line)
			}
			if r.Container == project+"-busy-1" {
				busy = append(busy, r)
			}
		}
		if len(busy) != 1 || busy[0].CPUPercent < 1 || busy[0].CPUPercent > 30 || busy[0].Memory == 0 || busy[0].PIDs == 0 {
			t.Errorf("busy read through the engine: %+v, want one reading with some CPU (20%% at most), memory and processes\n%s", busy, out)
		}
	})

	t.Run("interval", func(t *testing.T) {
		lines := statsLines(t, dir, "stats", "--format", "json", "--interval", "3s")
		busy := waitReadings(t, lines, project+"-busy-1", 5)
		// The second comes within a second, to give a CPU figure soon.
		if gap := meanGap(busy[1:]); gap < 2*time.Second || gap > 4*time.Second {
			t.Errorf("readings %v apart, want about 3s: %+v", gap, busy)
		}
	})
}

// meanGap is the mean time between rs: the engine stamps a reading when
// it makes it, which on a busy machine can be late in stack's round of
// reads, so that one gap is short and the next long.
func meanGap(rs []statReading) time.Duration {
	return rs[len(rs)-1].Time.Sub(rs[0].Time) / time.Duration(len(rs)-1)
}

// statReading is the part of a line of stack stats --format json a test
// checks.
type statReading struct {
	Time       time.Time `json:"time"`
	Container  string    `json:"container"`
	CPUPercent float64   `json:"cpu_percent"`
	CPULimit   float64   `json:"cpu_limit"`
	Memory     uint64    `json:"memory_bytes"`
	PIDs       uint64    `json:"pids"`
}

// statReadings are the readings of a running stack stats, by container.
type statReadings struct {
	mu  sync.Mutex
	by  map[string][]statReading
	bad []string
}

// statsLines runs stack with args in dir until the test ends and gathers
// its JSON lines.
func statsLines(t *testing.T, dir string, args ...string) *statReadings {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { _ = r.Close() })
	e2e.Background(t, dir, nil, w, args...)
	s := &statReadings{by: map[string][]statReading{}}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var v statReading
			err := json.Unmarshal(sc.Bytes(), &v)
			s.mu.Lock()
			if err != nil {
				s.bad = append(s.bad, sc.Text())
			} else {
				s.by[v.Container] = append(s.by[v.Container], v)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// waitReadings waits (30s at most) for n readings of container and returns
// its first n.
func waitReadings(t *testing.T, s *statReadings, container string, n int) []statReading {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		got, bad := append([]statReading(nil), s.by[container]...), s.bad
		s.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("stack stats printed lines that are not JSON: %q", bad)
		}
		if len(got) >= n {
			return got[:n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d readings of %s after 30s, want %d", len(got), container, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
