package lock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/stack-deploy/stack/progress"
)

// reportEvery is how often a waiting run says again who it waits for.
const reportEvery = 10 * time.Second

// lateAttempts bounds the attempts to take the lock once the wait is over:
// the lock was seen free, but other runs kept taking it first.
const lateAttempts = 3

// probeGrace is how long a waiting run gives a lock container it started
// to show its holder is gone, even when it may not wait at all.
const probeGrace = time.Second

// retryPause bounds the pause before trying again when the lock was free
// but another run took it first, or the engine is between two states of
// the lock container: the waiting runs then do not all ask at once.
const retryPause = 100 * time.Millisecond

// Acquire takes project's deploy lock on the engine c talks to, waiting up
// to o.Wait while another run holds it, and reporting that run as progress
// events. A lock whose holder is gone (its connection to the engine closed,
// or silent past the expiry) is taken over. Release the lock, on every
// path, with Lock.Release.
func Acquire(ctx context.Context, c Client, project string, o Options) (*Lock, error) {
	if o.Expiry <= 0 {
		o.Expiry = DefaultExpiry
	}
	// Asked while the first lock image is imported.
	arch := sync.OnceValues(func() (string, error) {
		v, err := c.ServerVersion(ctx)
		if err != nil {
			return "", fmt.Errorf("asking the engine its architecture: %w", err)
		}
		return v.Arch, nil
	})
	go func() { _, _ = arch() }()
	a := &acquirer{c: c, project: project, start: time.Now()}
	a.deadline = a.start.Add(o.Wait)
	for late := 0; ; {
		if !time.Now().Before(a.deadline) {
			if late++; late > lateAttempts {
				return nil, &HeldError{Project: project, Holder: a.holder, Waited: time.Since(a.start)}
			}
		}
		l, err := take(ctx, c, arch, project, o)
		switch {
		case err == nil:
			reportOp(ctx, project, "acquire", nil, "held by "+o.Holder.String())
			return l, nil
		case errors.Is(err, errRetry):
		case errors.Is(err, errTaken):
			if err := a.await(ctx); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
		if err := pause(ctx, rand.N(retryPause)); err != nil {
			return nil, err
		}
	}
}

// acquirer is one Acquire's wait for the lock.
type acquirer struct {
	c               Client
	project         string
	start, deadline time.Time
	// holder, seen and reported: the last holder seen, its lock container,
	// and when it was last reported.
	holder   Holder
	seen     string
	reported time.Time
	// quiet: the holder is not reported (stack lock status prints it).
	quiet bool
}

// await waits until the lock container is gone, its holder dead, or the
// deadline passed. A nil error means: try to take the lock again.
func (a *acquirer) await(ctx context.Context) error {
	in, err := inspect(ctx, a.c, a.project)
	if in == nil {
		return err
	}
	h := holderOf(in.Config.Labels)
	a.holder = h
	a.report(ctx, in.ID, h)
	until := a.deadline
	if next := time.Now().Add(reportEvery); next.Before(until) {
		until = next
	}
	switch in.State.Status {
	case "created":
		// Its holder never starts it (most runs release before it would
		// matter): starting it is how a waiting run learns whether the
		// holder is there. Its program runs while the holder's stream is
		// attached and exits at once when it is not. Its image goes first:
		// a running container pins its image (the engine refuses even a
		// forced removal), and the holder removes it beside its work,
		// which may come after this start (on Docker 29's containerd
		// image store it often did), leaving it for the whole hold.
		a.removeImage(ctx, in.Image)
		if err := a.c.ContainerStart(ctx, in.ID, container.StartOptions{}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("starting the lock container %q to see whether its holder lives: %w", Name(a.project), err)
		}
		if grace := time.Now().Add(probeGrace); until.Before(grace) {
			until = grace
		}
	case "exited", "dead":
		// Its holder is gone, and the engine did not remove it.
		a.tookOver(ctx, h, in.State.ExitCode)
		return removeContainer(ctx, a.c, in.ID)
	case "removing":
		return nil
	}
	return a.wait(ctx, in.ID, h, until)
}

// removeImage removes the image of a lock container that is only created,
// before it is started: a created container does not pin its image. The
// holder removes it too; whoever comes second finds it gone. Any failure is
// left to the holder's Release.
func (a *acquirer) removeImage(ctx context.Context, id string) {
	if id != "" {
		_, _ = a.c.ImageRemove(ctx, id, image.RemoveOptions{Force: true})
	}
}

// wait waits until the lock container id is removed, or until.
func (a *acquirer) wait(ctx context.Context, id string, h Holder, until time.Time) error {
	wctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	wc, ec := a.c.ContainerWait(wctx, id, container.WaitConditionRemoved)
	select {
	case r := <-wc:
		a.tookOver(ctx, h, int(r.StatusCode))
		return nil
	case err := <-ec:
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case cerrdefs.IsNotFound(err):
			return nil
		case wctx.Err() == nil:
			return fmt.Errorf("waiting for the lock container %q: %w", Name(a.project), err)
		case !time.Now().Before(a.deadline):
			return &HeldError{Project: a.project, Holder: h, Waited: time.Since(a.start)}
		}
		return nil
	}
}

// report says who holds the lock when the holder is new to this wait, and
// again every reportEvery.
func (a *acquirer) report(ctx context.Context, id string, h Holder) {
	if a.quiet || (id == a.seen && time.Since(a.reported) < reportEvery) {
		return
	}
	a.seen, a.reported = id, time.Now()
	msg := "held by " + h.String()
	if waited := time.Since(a.start); waited >= time.Second {
		msg += fmt.Sprintf("; waited %s of %s", waited.Round(time.Second), a.deadline.Sub(a.start).Round(time.Second))
	}
	progress.Report(ctx, resource(a.project), "wait", progress.Working, msg, nil)
}

// tookOver reports a lock whose program exited because its holder went: a
// released lock's was killed.
func (a *acquirer) tookOver(ctx context.Context, h Holder, status int) {
	var why string
	switch status {
	case exitClosed:
		why = "its connection to the engine closed"
	case exitSilent:
		why = "the engine had not heard from it for the expiry"
	default:
		return
	}
	progress.Report(ctx, resource(a.project), "take over", progress.Warning, fmt.Sprintf("the run holding the lock is gone (%s): %s", why, h), nil)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
