package dashboard_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// cpuWindow is how long each reading of the benchmark lasts, warmUp how
// long a watcher runs before it is read (its start: loading the project,
// the first listing).
const (
	cpuWindow = 15 * time.Second
	warmUp    = 5 * time.Second
)

// BenchmarkDashboardAndStatsCPU measures the CPU that watching a project
// costs the engine host while 30 services run (goal: at most 2% of the
// machine): `stack dashboard` with a page following it (its event stream,
// read by a plain HTTP client: what a browser costs is the viewer's) and
// `stack stats` streaming, together, for cpuWindow: stats reading every
// second as docker stats (stack-added-%), then every 5s
// (stack-stats5s-added-%). Counted: the two stack
// processes, and what the engine (dockerd, containerd, the 30 containers'
// shims) spends beyond the same window with nothing watching. Beside it,
// the anchor: `docker stats` streaming the same 30 containers. Figures in
// percent of the whole machine (runtime.NumCPU CPUs), medians of rounds;
// the engine's share is the difference with the mean of the windows with
// nothing watching before and after, on a machine others use too: noisy.
func BenchmarkDashboardAndStatsCPU(b *testing.B) {
	dir, _, ids, engine := thirtyServices(b)
	machine := float64(runtime.NumCPU()) * cpuWindow.Seconds() / 100 // CPU seconds in 1% of the machine

	var added, procs, engineAdded, slow, anchor, idles, loads []float64
	b.ResetTimer()
	for range b.N {
		idle := cpuOver(b, engine, cpuWindow)
		for range rounds {
			stackProcs, stackEngine := watch(b, engine, dir)
			slowProcs, slowEngine := watch(b, engine, dir, "--interval", "5s")
			docker, dockerEngine := anchorRound(b, engine, ids)
			next := cpuOver(b, engine, cpuWindow)
			mean := (idle + next) / 2 // nothing watching, before and after
			idle = next
			added = append(added, (stackProcs+stackEngine-mean)/machine)
			procs = append(procs, stackProcs/machine)
			engineAdded = append(engineAdded, (stackEngine-mean)/machine)
			slow = append(slow, (slowProcs+slowEngine-mean)/machine)
			anchor = append(anchor, (docker+dockerEngine-mean)/machine)
			idles = append(idles, mean/machine)
			loads = append(loads, loadAverage(b))
		}
	}
	b.StopTimer()
	b.ReportMetric(median(added), "stack-added-%")
	b.ReportMetric(median(procs), "stack-procs-%")
	b.ReportMetric(median(engineAdded), "stack-engine-%")
	b.ReportMetric(median(slow), "stack-stats5s-added-%")
	b.ReportMetric(median(anchor), "docker-stats-added-%")
	b.ReportMetric(median(idles), "engine-idle-%")
	b.ReportMetric(median(loads), "load1")
}

// loadAverage is the machine's one-minute load average: others use it
// too, and their load makes the figures noisy.
func loadAverage(b *testing.B) float64 {
	b.Helper()
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		b.Fatal(err)
	}
	l, err := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// thirtyServices runs a project of 30 services (busybox sleeping) and
// returns its directory, name, containers' IDs and the engine's processes
// that serve their figures.
func thirtyServices(b *testing.B) (dir, project string, ids []string, engine []int) {
	b.Helper()
	e2e.Engine(b)
	dir = b.TempDir()
	project = e2e.ProjectName(b)
	var compose strings.Builder
	compose.WriteString("name: " + project + "\nservices:\n")
	for i := range 30 {
		fmt.Fprintf(&compose, "  svc%02d:\n    image: busybox:stable\n    init: true\n    command: [\"sleep\", \"3600\"]\n", i)
	}
	e2e.WriteFiles(b, dir, map[string]string{"compose.yaml": compose.String()})
	e2e.Cmd{Dir: dir}.MustRun(b, "up")
	ids = strings.Fields(e2e.Docker(b, "ps", "-q", "--filter", "label="+e2e.Label+"="+project))
	if len(ids) != 30 {
		b.Fatalf("%d containers run, want 30", len(ids))
	}
	return dir, project, ids, enginePIDs(b, ids)
}

// rounds is how many times the benchmark reads each figure (windows with
// and without watchers, in turn), to report their medians.
const rounds = 3

// watch runs stack dashboard, followed by a page's event stream, and
// stack stats with statsArgs; after warmUp, it returns the CPU seconds the
// two used over cpuWindow, and those the engine did.
func watch(b *testing.B, engine []int, dir string, statsArgs ...string) (procs, eng float64) {
	b.Helper()
	dash := start(b, dir, "dashboard", "--no-open")
	defer stop(b, dash.Cmd)
	follow(b, dash)
	stats := start(b, dir, append([]string{"stats"}, statsArgs...)...)
	defer stop(b, stats.Cmd)
	time.Sleep(warmUp)
	before := cpuSeconds(b, dash.Process.Pid) + cpuSeconds(b, stats.Process.Pid)
	eng = cpuOver(b, engine, cpuWindow)
	return cpuSeconds(b, dash.Process.Pid) + cpuSeconds(b, stats.Process.Pid) - before, eng
}

// anchorRound is watch for docker stats on the same containers.
func anchorRound(b *testing.B, engine []int, ids []string) (proc, eng float64) {
	b.Helper()
	ds := exec.Command("docker", append([]string{"stats"}, ids...)...)
	ds.Stdout = io.Discard
	if err := ds.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = ds.Process.Kill() // docker stats does not end at SIGINT without a terminal
		_ = ds.Wait()
	}()
	time.Sleep(warmUp)
	before := cpuSeconds(b, ds.Process.Pid)
	eng = cpuOver(b, engine, cpuWindow)
	return cpuSeconds(b, ds.Process.Pid) - before, eng
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// enginePIDs are the main engine's processes that serve a container's
// figures: dockerd, its containerd, and the shim of each of ids.
func enginePIDs(b *testing.B, ids []string) []int {
	b.Helper()
	var pids []int
	for _, f := range []string{"/var/run/docker.pid", "/run/docker/containerd/containerd.pid"} {
		if data, err := os.ReadFile(f); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) == 0 {
		b.Fatal("no /var/run/docker.pid: the main engine's dockerd cannot be found")
	}
	for _, id := range ids {
		pid, err := strconv.Atoi(e2e.Docker(b, "inspect", "--format", "{{.State.Pid}}", id))
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, parentPID(b, pid))
	}
	return pids
}

// cpuOver is the CPU seconds pids use over d.
func cpuOver(b *testing.B, pids []int, d time.Duration) float64 {
	b.Helper()
	before := 0.0
	for _, p := range pids {
		before += cpuSeconds(b, p)
	}
	time.Sleep(d)
	after := 0.0
	for _, p := range pids {
		after += cpuSeconds(b, p)
	}
	return after - before
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on
// every Linux we run on: getconf CLK_TCK).
const clockTicks = 100

// statFields are the fields of /proc/PID/stat after the command's name.
func statFields(b *testing.B, pid int) []string {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("reading process %d: %v", pid, err)
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// cpuSeconds is the user and system CPU time process pid (all its
// threads) has used.
func cpuSeconds(b *testing.B, pid int) float64 {
	f := statFields(b, pid)
	user, _ := strconv.ParseFloat(f[11], 64) // utime, field 14
	sys, _ := strconv.ParseFloat(f[12], 64)  // stime, field 15
	return (user + sys) / clockTicks
}

func parentPID(b *testing.B, pid int) int {
	ppid, err := strconv.Atoi(statFields(b, pid)[1]) // field 4
	if err != nil {
		b.Fatal(err)
	}
	return ppid
}

// proc is a stack process of the benchmark and its first line of output.
type proc struct {
	*exec.Cmd
	first chan string
}

// start runs stack with args in dir, its output read and dropped.
func start(b *testing.B, dir string, args ...string) proc {
	b.Helper()
	cmd := exec.Command(e2e.Binary(b), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CI=true")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case first <- sc.Text():
			default:
			}
		}
	}()
	return proc{cmd, first}
}

// follow reads the event stream of the dashboard cmd runs, as its page
// would, until it ends.
func follow(b *testing.B, dash proc) {
	b.Helper()
	var line string
	select {
	case line = <-dash.first:
	case <-time.After(30 * time.Second):
		b.Fatal("stack dashboard printed no address within 30s")
	}
	_, url, _ := strings.Cut(line, ": ")
	base, token, _ := strings.Cut(url, "?token=")
	resp, err := http.Get(base + "events?token=" + token)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /events: %s", resp.Status)
	}
	go func() {
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
}

// stop ends cmd as Ctrl-C does, and waits for it (10s at most).
func stop(b *testing.B, cmd *exec.Cmd) {
	b.Helper()
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		b.Errorf("%s did not end within 10s of Ctrl-C", cmd.Path)
	}
}
