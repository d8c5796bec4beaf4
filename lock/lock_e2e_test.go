package lock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/progress"
)

// engine returns a client of the test engine and a project name whose lock
// container and images are removed when the test ends.
func engine(t *testing.T) (*client.Client, string) {
	t.Helper()
	e2e.Engine(t)
	c, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	project := e2e.ProjectName(t)
	t.Cleanup(func() {
		_, _ = exec.Command("docker", "rm", "-f", lock.Name(project)).CombinedOutput()
		if ids := e2e.Docker(t, "images", "-q", "--filter", "label=io.stack.lock="+project); ids != "" {
			_, _ = exec.Command("docker", append([]string{"rmi", "-f"}, strings.Fields(ids)...)...).CombinedOutput()
		}
	})
	return c, project
}

// leftovers lists what of project's lock the engine still has.
func leftovers(t *testing.T, project string) string {
	t.Helper()
	return strings.TrimSpace(e2e.Docker(t, "ps", "-aq", "--filter", "name=^"+lock.Name(project)+"$") + " " +
		e2e.Docker(t, "images", "-aq", "--filter", "label=io.stack.lock="+project))
}

// events records progress events and signals each to a channel.
type events struct {
	progress.Recorder
	ch chan progress.Event
}

func newEvents() *events { return &events{ch: make(chan progress.Event, 100)} }

func (e *events) Event(ev progress.Event) {
	e.Recorder.Event(ev)
	select {
	case e.ch <- ev:
	default:
	}
}

// await waits up to within for an event with action.
func (e *events) await(t *testing.T, action string, within time.Duration) progress.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e.ch:
			if ev.Action == action {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %s; events: %+v", action, within, e.Events())
		}
	}
}

// Intent: the lock is a container while held, and nothing once released.
func TestAcquireRelease(t *testing.T) {
	c, project := engine(t)
	ctx := context.Background()
	me := lock.Me("stack up --env prod")
	l, err := lock.Acquire(ctx, c, project, lock.Options{Holder: me})
	if err != nil {
		t.Fatal(err)
	}
	h, err := lock.Status(ctx, c, project)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil || h.PID != os.Getpid() || h.Command != me.Command || h.Host != me.Host || h.User != me.User || !h.Since.Equal(me.Since) {
		t.Errorf("Status while held = %+v, want %+v", h, me)
	}
	// The holder removes the image once its container exists, without
	// waiting for it: within seconds (an engine 29 takes longer than 20.10).
	imgs := "?"
	for deadline := time.Now().Add(10 * time.Second); imgs != "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		imgs = e2e.Docker(t, "images", "-aq", "--filter", "label=io.stack.lock="+project)
	}
	if imgs != "" {
		t.Errorf("the lock image stays while the lock is held: %s", imgs)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, project); left != "" {
		t.Errorf("left after release: %s", left)
	}
	if h, err := lock.Status(ctx, c, project); h != nil || err != nil {
		t.Errorf("Status after release = %v, %v; want nil, nil", h, err)
	}
	if l.Lost() != nil || l.Context().Err() == nil {
		t.Errorf("after Release: Lost() = %v, context err %v; want nil and cancelled", l.Lost(), l.Context().Err())
	}
}

// Intent: a second run waits, is told who holds the lock, and gets it once
// the holder releases; with a bound shorter than the hold it fails with
// ErrHeld naming the holder.
func TestWaitThenHandOff(t *testing.T) {
	c, project := engine(t)
	ctx := context.Background()
	first, err := lock.Acquire(ctx, c, project, lock.Options{Holder: lock.Me("first")})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release(ctx)

	_, err = lock.Acquire(ctx, c, project, lock.Options{Holder: lock.Me("impatient"), Wait: time.Second})
	var held *lock.HeldError
	if !errors.As(err, &held) || !errors.Is(err, lock.ErrHeld) || held.Holder.Command != "first" || held.Waited < time.Second {
		t.Fatalf("Acquire with 1s while held = %v, want a HeldError naming first after waiting 1s", err)
	}

	ev := newEvents()
	got := make(chan error, 1)
	var second *lock.Lock
	go func() {
		var err error
		second, err = lock.Acquire(progress.WithSink(ctx, ev), c, project, lock.Options{Holder: lock.Me("second"), Wait: time.Minute})
		got <- err
	}()
	wait := ev.await(t, "wait", 30*time.Second)
	if !strings.Contains(wait.Message, "first, since") {
		t.Errorf("the wait names %q, want the holder first", wait.Message)
	}
	select {
	case err := <-got:
		t.Fatalf("second acquired while first held: %v", err)
	default:
	}
	released := time.Now()
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	defer second.Release(ctx)
	if acq := ev.await(t, "acquire", time.Second); acq.Time.Before(released) {
		t.Errorf("second acquired at %s, before first released at %s", acq.Time, released)
	}
	if first.Lost() != nil {
		t.Errorf("first's release was taken for a loss: %v", first.Lost())
	}
	for _, e := range ev.Events() {
		if e.Action == "take over" {
			t.Errorf("second took first's released lock for a dead one's: %s", e.Message)
		}
	}
}

// holder starts a holder in another process (its expiry: lock.TestExpiry
// unless given) and returns it once it holds the lock, with what it prints
// next.
func holder(t *testing.T, project string, expiry ...time.Duration) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lock.HoldEnv+"="+project)
	if len(expiry) > 0 {
		cmd.Env = append(cmd.Env, lock.ExpiryEnv+"="+expiry[0].String())
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("the holder process says %q, %v; want held", line, err)
	}
	return cmd, r
}

// Intent: a holder killed with -9 is taken over at once by the next run,
// whether or not a waiting run had looked at its lock before (the lock
// container is then created, or running); nothing of it is left after. The
// holder killed before anyone looked has a long expiry: its heartbeats, the
// first of which starts its container, are far off.
func TestKilledHolderTakenOver(t *testing.T) {
	for _, waitingFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting first %v", waitingFirst), func(t *testing.T) {
			c, project := engine(t)
			ctx := context.Background()
			expiry := lock.TestExpiry
			if !waitingFirst {
				expiry = time.Minute
			}
			h, _ := holder(t, project, expiry)
			ev := newEvents()
			got := make(chan error, 1)
			var next *lock.Lock
			start := func() {
				go func() {
					var err error
					next, err = lock.Acquire(progress.WithSink(ctx, ev), c, project, lock.Options{Holder: lock.Me("next"), Wait: time.Minute})
					got <- err
				}()
			}
			if waitingFirst {
				start()
				ev.await(t, "wait", 30*time.Second)
			}
			if err := h.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if !waitingFirst {
				_ = h.Wait()
				start()
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}
			// Taken. It says so when it saw the dead holder's lock exit; on
			// a busy engine the lock may be gone (removed as it exits)
			// before it looks, and then it just takes the free lock.
			for _, took := range ev.Events() {
				if took.Action == "take over" && (!strings.Contains(took.Message, "connection to the engine closed") || !strings.Contains(took.Message, "lock test holder")) {
					t.Errorf("the take-over says %q, want the holder and that its connection closed", took.Message)
				}
			}
			if err := next.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if left := leftovers(t, project); left != "" {
				t.Errorf("left after the take-over and release: %s", left)
			}
		})
	}
}

// Intent: a holder whose connection stays open but who sends nothing (its
// machine suspended, or cut off) loses the lock after the expiry, and
// learns it once it runs again.
func TestSilentHolderExpires(t *testing.T) {
	c, project := engine(t)
	ctx := context.Background()
	h, out := holder(t, project)
	ev := newEvents()
	got := make(chan error, 1)
	go func() {
		l, err := lock.Acquire(progress.WithSink(ctx, ev), c, project, lock.Options{Holder: lock.Me("next"), Wait: time.Minute})
		if err == nil {
			defer l.Release(ctx)
		}
		got <- err
	}()
	ev.await(t, "wait", 30*time.Second)
	if err := h.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(stopped); waited < lock.TestExpiry/2 {
		t.Errorf("taken over %s after the holder stopped, before its expiry of %s", waited, lock.TestExpiry)
	}
	if took := ev.await(t, "take over", time.Second); !strings.Contains(took.Message, "had not heard from it") {
		t.Errorf("the take-over says %q, want that the engine had not heard from the holder", took.Message)
	}
	if err := h.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if line, _ := out.ReadString('\n'); !strings.Contains(line, lock.ErrLost.Error()) {
		t.Errorf("the holder, resumed, says %q; want that it lost the lock", line)
	}
	if err := h.Wait(); h.ProcessState.ExitCode() != 3 {
		t.Errorf("the holder, resumed, exits %v; want 3 (it saw it lost the lock)", err)
	}
}

// Intent: Break removes a lock whoever holds it and says whose it was; a
// holder still running learns it within a heartbeat, its context
// cancelled with ErrLost.
func TestBreak(t *testing.T) {
	c, project := engine(t)
	ctx := context.Background()
	if h, err := lock.Break(ctx, c, project); h != nil || err != nil {
		t.Fatalf("Break of a free lock = %v, %v; want nil, nil", h, err)
	}
	l, err := lock.Acquire(ctx, c, project, lock.Options{Holder: lock.Me("held"), Expiry: lock.TestExpiry})
	if err != nil {
		t.Fatal(err)
	}
	h, err := lock.Break(ctx, c, project)
	if err != nil || h == nil || h.Command != "held" {
		t.Fatalf("Break = %v, %v; want the holder held", h, err)
	}
	select {
	case <-l.Context().Done():
	case <-time.After(5 * lock.TestExpiry):
		t.Fatal("the holder did not learn that its lock was removed")
	}
	if !errors.Is(l.Lost(), lock.ErrLost) {
		t.Errorf("Lost() = %v, want ErrLost", l.Lost())
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("Release after the lock was removed: %v", err)
	}
	if left := leftovers(t, project); left != "" {
		t.Errorf("left after Break: %s", left)
	}
}

// Intent: a container stack did not make under the lock's name is an
// error naming it, and is left alone.
func TestNotALock(t *testing.T) {
	c, project := engine(t)
	if out, err := exec.Command("docker", "create", "--name", lock.Name(project), "busybox:stable").CombinedOutput(); err != nil {
		t.Fatalf("docker create: %v\n%s", err, out)
	}
	_, err := lock.Acquire(context.Background(), c, project, lock.Options{Holder: lock.Me("x")})
	if !errors.Is(err, lock.ErrNotLock) || !strings.Contains(err.Error(), lock.Name(project)) {
		t.Errorf("Acquire = %v, want ErrNotLock naming %s", err, lock.Name(project))
	}
	if e2e.Docker(t, "ps", "-aq", "--filter", "name=^"+lock.Name(project)+"$") == "" {
		t.Error("the container that is not a lock was removed")
	}
}

// Intent: a holder that held the lock for a heartbeat has started its lock
// container; killed with -9, it leaves nothing on the engine even when no
// other run comes.
func TestKilledHolderLeavesNothing(t *testing.T) {
	_, project := engine(t)
	h, _ := holder(t, project)
	running := func() bool {
		return e2e.Docker(t, "ps", "-q", "--filter", "name=^"+lock.Name(project)+"$", "--filter", "status=running") != ""
	}
	for deadline := time.Now().Add(30 * time.Second); !running(); {
		if time.Now().After(deadline) {
			t.Fatal("the holder did not start its lock container within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := h.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.Wait()
	for deadline := time.Now().Add(30 * time.Second); leftovers(t, project) != ""; {
		if time.Now().After(deadline) {
			t.Fatalf("left 30s after the holder was killed: %s", leftovers(t, project))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
