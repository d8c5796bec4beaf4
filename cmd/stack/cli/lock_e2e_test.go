package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/lock"
)

// lockedProject is a project whose every `up --force-recreate` replaces
// two containers, the second waiting for the first to be healthy: a deploy
// of a few engine calls and a wait.
const lockedProject = `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "true"], interval: 300ms}
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on: {db: {condition: service_healthy}}
`

// slowProject's db turns healthy only after 4 s: an up is under way, holding
// the lock, long enough to be killed or interrupted.
const slowProject = `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sh", "-c", "sleep 4; touch /ready; exec sleep 3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/ready"], interval: 300ms, retries: 100}
`

// lockProject is project() plus a cleanup of the project's lock, and the
// project's name.
func lockProject(t *testing.T, compose string) (e2e.Cmd, string) {
	t.Helper()
	stack := project(t, compose)
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	t.Cleanup(func() { removeLock(t, name) })
	return stack, name
}

func removeLock(t *testing.T, project string) {
	_, _ = exec.Command("docker", "rm", "-f", lock.Name(project)).CombinedOutput()
	if ids := e2e.Docker(t, "images", "-aq", "--filter", "label=io.stack.lock="+project); ids != "" {
		_, _ = exec.Command("docker", append([]string{"rmi", "-f"}, strings.Fields(ids)...)...).CombinedOutput()
	}
}

// lockLeftovers lists what of project's lock the engine still has.
func lockLeftovers(t *testing.T, project string) string {
	t.Helper()
	return strings.TrimSpace(e2e.Docker(t, "ps", "-aq", "--filter", "name=^"+lock.Name(project)+"$") + " " +
		e2e.Docker(t, "images", "-aq", "--filter", "label=io.stack.lock="+project))
}

// run is a stack process started in the background.
type run struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	lines  chan string // stderr, line by line, while it runs
	done   chan struct{}
}

// start starts stack with args as stack.Run would, without waiting.
func start(t *testing.T, stack e2e.Cmd, args ...string) *run {
	t.Helper()
	cmd := exec.Command(e2e.Binary(t), args...)
	cmd.Dir = stack.Dir
	cmd.Env = append(append(os.Environ(), "CI=true"), stack.Env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &run{cmd: cmd, stderr: &bytes.Buffer{}, lines: make(chan string, 1000), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(io.TeeReader(pipe, r.stderr))
		for s.Scan() {
			select {
			case r.lines <- s.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-r.done })
	return r
}

// wait waits for the run to end and returns its exit code.
func (r *run) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("stack %v did not end within 2 minutes; stderr:\n%s", r.cmd.Args[1:], r.stderr)
	}
	t.Logf("$ stack %s  (exit %d, pid %d)\n%s", strings.Join(r.cmd.Args[1:], " "), r.cmd.ProcessState.ExitCode(), r.cmd.Process.Pid, r.stderr)
	return r.cmd.ProcessState.ExitCode()
}

// until waits for a stderr line containing every one of parts.
func (r *run) until(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case line := <-r.lines:
			if containsAll(line, parts...) {
				return line
			}
		case <-r.done:
			t.Fatalf("stack %v ended without printing %q; stderr:\n%s", r.cmd.Args[1:], parts, r.stderr)
		case <-deadline:
			t.Fatalf("stack %v printed no %q within a minute; stderr:\n%s", r.cmd.Args[1:], parts, r.stderr)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// event is a --progress json line.
type event struct {
	Resource, Action, Status, Message, Op, Error string
	Time                                         time.Time
}

func events(t *testing.T, stderr string) []event {
	t.Helper()
	var out []event
	for _, line := range strings.Split(stderr, "\n") {
		var e event
		if json.Unmarshal([]byte(line), &e) == nil && e.Resource != "" {
			out = append(out, e)
		}
	}
	return out
}

// held is when a run held the deploy lock, by its --progress json events.
type held struct {
	pid              int
	acquired, freed  time.Time
	first, last      time.Time // its first and last event of other work
	waited, tookOver string    // what it said while waiting, and taking over
}

// heldSpan reads the lock's acquire and release events of a run, and checks
// that every event of its work (those work picks) lies between them.
func heldSpan(t *testing.T, r *run, work func(event) bool) held {
	t.Helper()
	h := held{pid: r.cmd.Process.Pid}
	for _, e := range events(t, r.stderr.String()) {
		switch {
		case strings.HasPrefix(e.Resource, "lock:") && e.Action == "acquire" && e.Status == "done":
			h.acquired = e.Time
		case strings.HasPrefix(e.Resource, "lock:") && e.Action == "release" && e.Status == "done":
			h.freed = e.Time
		case strings.HasPrefix(e.Resource, "lock:") && e.Action == "wait":
			h.waited = e.Message
		case strings.HasPrefix(e.Resource, "lock:") && e.Action == "take over":
			h.tookOver = e.Message
		case !strings.HasPrefix(e.Resource, "lock:") && work(e):
			if h.first.IsZero() {
				h.first = e.Time
			}
			h.last = e.Time
		}
	}
	if h.acquired.IsZero() || h.freed.IsZero() || h.first.IsZero() {
		t.Fatalf("pid %d reported no acquire, release or work: %+v\n%s", h.pid, h, r.stderr)
	}
	if h.first.Before(h.acquired) || h.last.After(h.freed) {
		t.Errorf("pid %d worked from %s to %s, outside its hold of the lock, %s to %s", h.pid, h.first, h.last, h.acquired, h.freed)
	}
	return h
}

// engineCalls picks the events of engine operations: an up plans before it
// takes the lock, and changes the engine only under it.
func engineCalls(e event) bool { return e.Op != "" }

// everything picks every event: release and promote do all under the lock.
func everything(event) bool { return true }

// engineEvent is one line of `docker events --format '{{json .}}'`.
type engineEvent struct {
	Type, Action string
	Actor        struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// changeActions are the engine events of a change to a container or a
// network.
var changeActions = map[string]bool{
	"create": true, "start": true, "restart": true, "stop": true, "kill": true, "die": true, "destroy": true,
	"rename": true, "pause": true, "unpause": true, "update": true, "connect": true, "disconnect": true,
}

// engineHolds reads, from the engine's own events between since and until,
// when each lock container of project existed, and every change of the
// project's containers and networks; it checks that no two lock containers
// existed at once and that every change happened while one did.
func engineHolds(t *testing.T, project string, since, until time.Time) int {
	t.Helper()
	out, err := exec.Command("docker", "events", "--format", "{{json .}}",
		"--since", strconv.FormatFloat(float64(since.UnixNano())/1e9, 'f', 9, 64),
		"--until", strconv.FormatFloat(float64(until.UnixNano())/1e9, 'f', 9, 64),
		"--filter", "type=container", "--filter", "type=network").Output()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	type span struct{ from, to int64 }
	var holds []span
	open := map[string]int64{}
	type change struct {
		at   int64
		what string
	}
	var changes []change
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var e engineEvent
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		name := e.Actor.Attributes["name"]
		switch {
		case e.Type == "container" && name == lock.Name(project) && e.Action == "create":
			open[e.Actor.ID] = e.TimeNano
		case e.Type == "container" && name == lock.Name(project) && e.Action == "destroy":
			holds = append(holds, span{open[e.Actor.ID], e.TimeNano})
			delete(open, e.Actor.ID)
		case !changeActions[e.Action]:
			// A healthcheck's exec, a health status: the engine's doing.
		case e.Type == "container" && e.Actor.Attributes["io.stack.project"] == project,
			e.Type == "network" && strings.HasPrefix(name, project+"_"):
			changes = append(changes, change{e.TimeNano, e.Type + " " + e.Action + " " + name})
		}
	}
	if len(open) > 0 {
		t.Errorf("lock containers not destroyed by %s: %v", until, open)
	}
	sort.Slice(holds, func(i, j int) bool { return holds[i].from < holds[j].from })
	for i := 1; i < len(holds); i++ {
		if holds[i].from < holds[i-1].to {
			t.Errorf("two lock containers existed at once: %v and %v", holds[i-1], holds[i])
		}
	}
	for _, c := range changes {
		inside := false
		for _, h := range holds {
			inside = inside || (h.from <= c.at && c.at <= h.to)
		}
		if !inside {
			t.Errorf("the engine changed the project (%s) at %s, while no run held the lock (holds %v)", c.what, time.Unix(0, c.at), holds)
		}
	}
	if len(changes) == 0 {
		t.Error("the engine's events show no change of the project")
	}
	return len(holds)
}

// TestDeployLockE2E: two deploys of one project started 100 ms apart take
// turns, proven by the engine's own events and by the runs' progress.
//
// Model: db (healthcheck) and web (waits for db healthy), busybox.
//
// 5 times:
//
//	down; up --force-recreate & (100 ms later) up --force-recreate
//	   -> both exit 0; the second reports it waits for the first (its pid);
//	      each run's engine calls lie inside its hold, the two holds do not
//	      overlap; the engine's events: lock containers one at a time, every
//	      change of the project's containers and networks inside one
//	   -> one network project_default, nothing of the lock left
func TestDeployLockE2E(t *testing.T) {
	stack, name := lockProject(t, lockedProject)
	for round := range 5 {
		stack.MustRun(t, "down")
		since := time.Now()
		first := start(t, stack, "--progress", "json", "up", "--force-recreate")
		time.Sleep(100 * time.Millisecond) // the scenario: the second starts 100 ms later
		second := start(t, stack, "--progress", "json", "up", "--force-recreate")
		if c1, c2 := first.wait(t), second.wait(t); c1 != 0 || c2 != 0 {
			t.Fatalf("round %d: exits %d and %d, want 0 and 0", round, c1, c2)
		}
		until := time.Now()
		a, b := heldSpan(t, first, engineCalls), heldSpan(t, second, engineCalls)
		if b.acquired.Before(a.acquired) {
			a, b = b, a
		}
		if b.acquired.Before(a.freed) {
			t.Errorf("round %d: pid %d acquired the lock at %s, before pid %d released it at %s", round, b.pid, b.acquired, a.pid, a.freed)
		}
		if want := fmt.Sprintf("(pid %d)", a.pid); !strings.Contains(b.waited, want) {
			t.Errorf("round %d: the run that waited said %q, want the holder %s", round, b.waited, want)
		}
		if b.tookOver != "" {
			t.Errorf("round %d: pid %d took over a lock that was released: %s", round, b.pid, b.tookOver)
		}
		if n := engineHolds(t, name, since, until); n < 2 {
			t.Errorf("round %d: the engine saw %d lock containers, want one per run", round, n)
		}
		if nets := e2e.Docker(t, "network", "ls", "-q", "--filter", "name=^"+name+"_default$"); len(strings.Fields(nets)) != 1 {
			t.Errorf("round %d: networks named %s_default: %q, want one", round, name, nets)
		}
		if left := lockLeftovers(t, name); left != "" {
			t.Errorf("round %d: left of the lock: %s", round, left)
		}
	}
}

// TestDeployLockKilledE2E: a run killed with -9 while it deploys is taken
// over by the next run; Ctrl-C releases the lock.
//
// Model: db, healthy 4 s after it starts.
//
//	up (under way: waiting for db healthy); up (waits for it); kill -9 the first
//	                        -> the second takes over, naming the killed run (pid)
//	                           and that its connection closed; exit 0; one network
//	up --force-recreate; Ctrl-C while it waits -> exit 130, nothing of the lock left
//	lock status             -> not locked
func TestDeployLockKilledE2E(t *testing.T) {
	stack, name := lockProject(t, slowProject)
	killed := start(t, stack, "--progress", "json", "up")
	killed.until(t, "waiting until healthy")
	next := start(t, stack, "--progress", "json", "up", "--lock-timeout", "1m")
	next.until(t, `"lock:`, `"wait"`)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.wait(t)
	if code := next.wait(t); code != 0 {
		t.Fatalf("the up after the killed one: exit %d", code)
	}
	h := heldSpan(t, next, engineCalls)
	if want := fmt.Sprintf("(pid %d)", killed.cmd.Process.Pid); !containsAll(h.tookOver, want, "connection to the engine closed") {
		t.Errorf("the next up says %q on taking over; want the killed run %s and that its connection closed", h.tookOver, want)
	}
	if nets := e2e.Docker(t, "network", "ls", "-q", "--filter", "name=^"+name+"_default$"); len(strings.Fields(nets)) != 1 {
		t.Errorf("networks named %s_default: %q, want one", name, nets)
	}

	interrupted := start(t, stack, "up", "--force-recreate")
	interrupted.until(t, "waiting until healthy")
	if err := interrupted.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := interrupted.wait(t); code != 130 {
		t.Errorf("up interrupted: exit %d, want 130", code)
	}
	if left := lockLeftovers(t, name); left != "" {
		t.Errorf("left of the lock after Ctrl-C: %s", left)
	}
	if out := stack.MustRun(t, "lock", "status").Stdout; out != name+": not locked\n" {
		t.Errorf("lock status after Ctrl-C: %q", out)
	}
}

// TestLockVerbsE2E: an up that changes nothing takes the lock only when
// another run holds it; `stack lock status|release`; the exit code of a run
// that waited in vain.
//
// Model: db and web (busybox); the test itself holds the lock, as "e2e
// holder", from the second step.
//
//	up; up (nothing to change)     -> the second takes no lock (no lock event)
//	lock status [--format json]     -> held by the test's pid, its command
//	up --lock-timeout 1s            -> exit 75 naming the holder, though nothing would change
//	up --force-recreate --lock-timeout 1s -> exit 75; the containers are the same
//	stop, restart web, rm -f -s, create --force-recreate, each --lock-timeout 1s -> exit 75; the containers still run
//	lock release                    -> says whose lock it removed; the test's lock is lost
//	lock status                     -> not locked; release again: nothing to release
func TestLockVerbsE2E(t *testing.T) {
	stack, name := lockProject(t, lockedProject)
	stack.MustRun(t, "up")
	if r := stack.MustRun(t, "--progress", "json", "up"); strings.Contains(r.Stderr, `"lock:`) {
		t.Errorf("an up that changes nothing took the lock, free:\n%s", r.Stderr)
	}
	containers := e2e.Docker(t, "ps", "-aq", "--filter", "label=io.stack.project="+name)

	c, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	l, err := lock.Acquire(ctx, c, name, lock.Options{Holder: lock.Me("e2e holder")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	pid := fmt.Sprintf("(pid %d): e2e holder, since ", os.Getpid())

	if out := stack.MustRun(t, "lock", "status").Stdout; !strings.HasPrefix(out, name+": held by ") || !strings.Contains(out, pid) {
		t.Errorf("lock status: %q, want held by this test %s", out, pid)
	}
	var status struct {
		Project string
		Held    bool
		Holder  lock.Holder
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "lock", "status", "--format", "json").Stdout), &status); err != nil {
		t.Fatal(err)
	}
	if status.Project != name || !status.Held || status.Holder.PID != os.Getpid() || status.Holder.Command != "e2e holder" {
		t.Errorf("lock status --format json: %+v", status)
	}

	for _, args := range [][]string{{"up", "--lock-timeout", "1s"}, {"up", "--force-recreate", "--lock-timeout", "1s"}} {
		r := stack.Run(t, args...)
		if r.Code != 75 || !containsAll(r.Stderr, pid, "--lock-timeout", "stack lock release") {
			t.Errorf("%v while held: exit %d, stderr %q; want 75 naming the holder %s", args, r.Code, r.Stderr, pid)
		}
	}
	if now := e2e.Docker(t, "ps", "-aq", "--filter", "label=io.stack.project="+name); now != containers {
		t.Errorf("an up that did not get the lock changed the containers: %q, were %q", now, containers)
	}
	// The verbs that change the containers up made wait for a deploy too.
	for _, args := range [][]string{{"stop", "--lock-timeout", "1s"}, {"restart", "web", "--lock-timeout", "1s"}, {"rm", "-f", "-s", "--lock-timeout", "1s"}, {"create", "--force-recreate", "--lock-timeout", "1s"}} {
		r := stack.Run(t, args...)
		if r.Code != 75 || !containsAll(r.Stderr, pid, "--lock-timeout") {
			t.Errorf("%v while held: exit %d, stderr %q; want 75 naming the holder %s", args, r.Code, r.Stderr, pid)
		}
	}
	if now := e2e.Docker(t, "ps", "-q", "--filter", "label=io.stack.project="+name); now != containers {
		t.Errorf("stop, restart or rm changed the containers while the lock was held: running %q, were %q", now, containers)
	}

	if out := stack.MustRun(t, "lock", "release").Stdout; !strings.HasPrefix(out, name+": removed the deploy lock held by ") || !strings.Contains(out, pid) {
		t.Errorf("lock release: %q, want whose lock it removed (%s)", out, pid)
	}
	select {
	case <-l.Context().Done():
	case <-time.After(time.Minute):
		t.Fatal("the holder did not learn that its lock was removed")
	}
	if !errors.Is(l.Lost(), lock.ErrLost) {
		t.Errorf("the holder's loss: %v, want ErrLost", l.Lost())
	}
	if out := stack.MustRun(t, "lock", "status").Stdout; out != name+": not locked\n" {
		t.Errorf("lock status after release: %q", out)
	}
	if out := stack.MustRun(t, "lock", "release").Stdout; out != name+": not locked; nothing to release\n" {
		t.Errorf("lock release of a free lock: %q", out)
	}
}

// TestPromoteLockE2E: promote changes only registries, yet takes TO's
// deploy lock, so it and a release into the same environment take turns.
//
// Model: web (built FROM busybox), environments staging and prod on two
// registries.
//
//	release --env staging --tag v1
//	(the test holds the lock) promote staging prod --lock-timeout 1s
//	                             -> exit 75; no manifest written to prod
//	release --env prod --tag p1 & (100 ms later) promote staging prod
//	                             -> both exit 0; the second waited for the first,
//	                                their holds do not overlap, each one's work inside its own
func TestPromoteLockE2E(t *testing.T) {
	e2e.Engine(t)
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	prod.RemoveImagesAtCleanup(t)
	stack, name := lockProject(t, `
services:
  web:
    build: ./web
x-stack:
  environments:
    staging: {registry: `+staging.Host+`/shop}
    prod: {registry: `+prod.Host+`/shop}
`)
	e2e.WriteFiles(t, stack.Dir, map[string]string{
		"web/Dockerfile": "FROM busybox:stable\nCOPY version /version\nCMD [\"sleep\", \"3600\"]\n",
		"web/version":    "1\n",
	})
	stack.Env = append(stack.Env, "DOCKER_CONFIG="+e2e.DockerConfig(t, staging, prod))
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", "-f", name+"-web").CombinedOutput() })
	stack.MustRun(t, "release", "--env", "staging", "--tag", "v1")

	c, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	// prod deploys as a project of its own: its lock is that project's.
	prodProject := name + "-prod"
	t.Cleanup(func() { removeLock(t, prodProject) })
	l, err := lock.Acquire(ctx, c, prodProject, lock.Options{Holder: lock.Me("e2e holder")})
	if err != nil {
		t.Fatal(err)
	}
	prod.Reset()
	r := stack.Run(t, "promote", "staging", "prod", "--lock-timeout", "1s")
	if r.Code != 75 || !strings.Contains(r.Stderr, fmt.Sprintf("(pid %d): e2e holder", os.Getpid())) {
		t.Errorf("promote while the lock is held: exit %d, stderr %q; want 75 naming the holder", r.Code, r.Stderr)
	}
	if writes := prod.Stats().ManifestWrites; writes != 0 {
		t.Errorf("promote that did not get the lock wrote %d manifests to prod", writes)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	release := start(t, stack, "--progress", "json", "release", "--env", "prod", "--tag", "p1")
	time.Sleep(100 * time.Millisecond) // the scenario: promote starts 100 ms later
	promote := start(t, stack, "--progress", "json", "promote", "staging", "prod")
	if c1, c2 := release.wait(t), promote.wait(t); c1 != 0 || c2 != 0 {
		t.Fatalf("release and promote: exits %d and %d, want 0 and 0", c1, c2)
	}
	a, b := heldSpan(t, release, everything), heldSpan(t, promote, everything)
	if b.acquired.Before(a.acquired) {
		a, b = b, a
	}
	if b.acquired.Before(a.freed) {
		t.Errorf("pid %d acquired the lock at %s, before pid %d released it at %s", b.pid, b.acquired, a.pid, a.freed)
	}
	// promote holds the lock for a few ms: a release that comes second may
	// find it gone before it can name it.
	if want := fmt.Sprintf("(pid %d)", a.pid); b.waited != "" && !strings.Contains(b.waited, want) {
		t.Errorf("the run that waited said %q, want the holder %s", b.waited, want)
	}
	for _, h := range []held{a, b} {
		if h.tookOver != "" {
			t.Errorf("pid %d took over a lock that was released: %s", h.pid, h.tookOver)
		}
	}
	if left := lockLeftovers(t, prodProject); left != "" {
		t.Errorf("left of the lock: %s", left)
	}
}
