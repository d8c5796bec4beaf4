package lock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/stack-deploy/stack/progress"
)

// DefaultExpiry is how long the engine keeps the lock of a holder it stops
// hearing from while its connection stays open (its machine vanished).
const DefaultExpiry = 15 * time.Second

// beatsPerExpiry is how many heartbeats a holder sends within the expiry: a
// few lost to a busy machine do not end its lock.
const beatsPerExpiry = 6

// beatsBeforeStart is how many heartbeats a holder sends before it starts
// its lock container: half the expiry. A lock held for less (a down, most
// ups: seconds) is never started, and its release removes a created
// container, which is a few ms, where killing a started one's program costs
// the engine 70-90 ms. A holder that dies before does not leave its lock
// held: the next run starts it, and it exits at once.
const beatsBeforeStart = beatsPerExpiry / 2

// releaseTimeout bounds Release when the run's context is already done.
const releaseTimeout = 10 * time.Second

// Options steer Acquire.
type Options struct {
	// Holder is who takes the lock: the waiting runs see it.
	Holder Holder
	// Wait bounds how long Acquire waits while another run holds the lock;
	// 0: it does not wait for a live holder (a dead one's lock is still
	// taken over, which takes up to a second).
	Wait time.Duration
	// Expiry is how long the lock outlives a holder whose heartbeats stop
	// with its connection open; 0: DefaultExpiry. Whole seconds.
	Expiry time.Duration
}

// Name is the name of project's lock container: the engine gives a name to
// one container at a time, which is what makes it a lock. Project names
// have no dots, so it cannot be a container of any project.
func Name(project string) string { return "stack-lock." + project }

// Lock is a deploy lock held by this process.
type Lock struct {
	c       Client
	project string
	id      string
	ctx     context.Context
	cancel  context.CancelCauseFunc
	// stop ends keep, which closes kept when it returns, and attached once
	// it is attached to the lock container.
	stop     context.CancelFunc
	kept     chan struct{}
	attached chan struct{}
	// image is the lock image when keep could not remove it.
	image    string
	released atomic.Bool
	lost     sync.Once
	once     sync.Once
	err      error
}

// Context is the context Acquire was given, cancelled with ErrLost when the
// lock ends while held. The work the lock protects runs under it.
func (l *Lock) Context() context.Context { return l.ctx }

// Lost returns why the lock ended while held (errors.Is ErrLost), or nil.
func (l *Lock) Lost() error {
	if err := context.Cause(l.ctx); errors.Is(err, ErrLost) {
		return err
	}
	return nil
}

// Release removes the lock container and ends the heartbeat; a second call
// does nothing. A removal that fails leaves the lock to expire: its
// connection closes with this process.
func (l *Lock) Release(ctx context.Context) error {
	l.once.Do(func() {
		l.released.Store(true)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		// The container goes first, its program killed: with the stream
		// closed first, it would exit as if this process had died, and a
		// waiting run would say so.
		l.err = removeContainer(ctx, l.c, l.id)
		l.stop()
		<-l.kept
		if l.image != "" && l.err == nil {
			if _, err := l.c.ImageRemove(ctx, l.image, image.RemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
				l.err = fmt.Errorf("removing the lock image: %w", err)
			}
		}
		l.cancel(context.Canceled)
		reportOp(ctx, l.project, "release", l.err, "")
	})
	return l.err
}

// take makes the lock container: the lock is taken once it is created, and
// errTaken says another holds it. The rest (removing the image, attaching,
// the heartbeat) goes on in keep, beside the work the lock protects.
func take(ctx context.Context, c Client, arch func() (string, error), project string, o Options) (*Lock, error) {
	img, err := importImage(ctx, c, project, o.Expiry)
	if err != nil {
		return nil, err
	}
	a, err := arch()
	if err == nil && !slices.Contains(archs, a) {
		err = fmt.Errorf("%w: the engine runs on %q", ErrArch, a)
	}
	var created container.CreateResponse
	if err == nil {
		created, err = c.ContainerCreate(ctx,
			&container.Config{
				Image: img, Cmd: []string{programPath(a)}, User: "65534:65534", Labels: o.Holder.labels(project),
				// The program reads the holder's attach stream as its
				// standard input, which the engine closes when that stream
				// ends.
				OpenStdin: true, StdinOnce: true, AttachStdin: true,
			},
			&container.HostConfig{
				// Once its program exits, the engine removes it: a holder
				// that died leaves nothing once its lock ends.
				AutoRemove:  true,
				NetworkMode: "none", LogConfig: container.LogConfig{Type: "none"},
				ReadonlyRootfs: true, CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"},
			}, nil, nil, Name(project))
		switch {
		case cerrdefs.IsConflict(err):
			err = errTaken
		case cerrdefs.IsNotFound(err):
			// stack lock release removed the image as a leftover meanwhile.
			err = errRetry
		case err != nil:
			err = fmt.Errorf("creating the lock container %q: %w", Name(project), err)
		}
	}
	if err != nil {
		_, _ = c.ImageRemove(context.WithoutCancel(ctx), img, image.RemoveOptions{Force: true})
		return nil, err
	}
	lctx, cancel := context.WithCancelCause(ctx)
	// keep outlives a cancelled run (Ctrl-C) until Release.
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Lock{
		c: c, project: project, id: created.ID, ctx: lctx, cancel: cancel,
		stop: stop, kept: make(chan struct{}), attached: make(chan struct{}),
	}
	go l.keep(kctx, img, o.Expiry/beatsPerExpiry)
	return l, nil
}

// keep runs while the lock is held. It removes the lock image (the
// container keeps its layer until it goes, so nothing of the lock outlives
// it), attaches to the lock container (a stream the program reads, which
// the engine closes when this process's connection ends), then writes a
// byte every interval and looks that the container is still there (a
// forced release of a lock nobody started ends no stream), starting it once
// held for beatsBeforeStart heartbeats. None of it delays the work: a connection over ssh:// takes
// a new ssh session, and a start is a few hundred ms of the engine's time
// that a short hold, released before, never spends.
func (l *Lock) keep(ctx context.Context, img string, interval time.Duration) {
	defer close(l.kept)
	// A short hold's Release must not cut this short: it would then remove
	// the image itself, after the container, which takes longer.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	_, err := l.c.ImageRemove(rctx, img, image.RemoveOptions{Force: true})
	cancel()
	if err != nil && !cerrdefs.IsNotFound(err) {
		l.image = img
	}
	conn, err := l.c.ContainerAttach(ctx, l.id, container.AttachOptions{Stream: true, Stdin: true})
	if err != nil {
		if ctx.Err() == nil {
			l.lose(fmt.Sprintf("attaching to its container: %v", err))
		}
		return
	}
	defer conn.Close()
	close(l.attached)
	go func() {
		// The stream carries nothing back: it ends when the engine closes it.
		_, _ = io.Copy(io.Discard, conn.Reader)
		l.lose("its connection to the engine closed")
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for beats := 1; ; beats++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := conn.Conn.Write([]byte{0}); err != nil {
			l.lose(fmt.Sprintf("sending a heartbeat: %v", err))
			return
		}
		ictx, cancel := context.WithTimeout(ctx, interval)
		in, err := l.c.ContainerInspect(ictx, l.id)
		cancel()
		switch {
		case cerrdefs.IsNotFound(err):
			l.lose("its container is gone: stack lock release removed it, or the engine had not heard from this run for the expiry")
			return
		case err == nil && in.State.Status == "created":
			if beats < beatsBeforeStart {
				continue
			}
			// Held for half the expiry: a long deploy. Started, the program
			// ends the lock by itself if this process dies, with no other
			// run coming to probe it, and the engine removes it.
			sctx, cancel := context.WithTimeout(ctx, interval)
			_ = l.c.ContainerStart(sctx, l.id, container.StartOptions{})
			cancel()
		case err == nil && !in.State.Running:
			l.lose(fmt.Sprintf("its container is %s", in.State.Status))
			return
		}
		// Any other error (the engine slow to answer) is the expiry's to judge.
	}
}

// lose ends the lock's context with ErrLost, once, unless it was released.
func (l *Lock) lose(why string) {
	if l.released.Load() {
		return
	}
	l.lost.Do(func() {
		err := fmt.Errorf("%w: %s", ErrLost, why)
		progress.Report(l.ctx, resource(l.project), "hold", progress.Failed, "", err)
		l.cancel(err)
	})
}

var (
	errTaken = errors.New("the lock container's name is taken")
	errRetry = errors.New("the lock image went before its container was created")
)

// importImage imports the lock programs as an image labelled with project
// and returns its ID. The engine pulls nothing: the image comes from a tar.
func importImage(ctx context.Context, c Client, project string, expiry time.Duration) (string, error) {
	rc, err := c.ImageImport(ctx, image.ImportSource{Source: bytes.NewReader(imageTar(expiry)), SourceName: "-"}, "",
		image.ImportOptions{Changes: []string{"LABEL " + labelProject + "=" + project}, Message: "stack deploy lock"})
	if err != nil {
		return "", fmt.Errorf("importing the lock image: %w", err)
	}
	defer rc.Close()
	var id string
	for d := json.NewDecoder(rc); ; {
		var m struct {
			Status string
			Error  *struct{ Message string } `json:"errorDetail"`
		}
		if err := d.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("importing the lock image: %w", err)
		}
		if m.Error != nil {
			return "", fmt.Errorf("importing the lock image: %s", m.Error.Message)
		}
		if strings.HasPrefix(m.Status, "sha256:") {
			id = m.Status
		}
	}
	if id == "" {
		return "", errors.New("importing the lock image: the engine gave no image ID")
	}
	return id, nil
}

// removeContainer removes a lock container, killing its program; one that
// is gone or going already is removed.
func removeContainer(ctx context.Context, c Client, id string) error {
	err := c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	if cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress") {
		// The engine's own removal after the program exited: wait for it.
		wc, ec := c.ContainerWait(ctx, id, container.WaitConditionRemoved)
		select {
		case <-wc:
			return nil
		case err := <-ec:
			if cerrdefs.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("waiting for the lock container to go: %w", err)
		}
	}
	return fmt.Errorf("removing the lock container: %w", err)
}

// resource is the progress resource of project's lock.
func resource(project string) string { return "lock:" + project }

// reportOp reports the engine operation that takes or releases the lock:
// an event --progress json shows and the line renderers leave out.
func reportOp(ctx context.Context, project, action string, err error, message string) {
	status, op := progress.Done, "create container:"+Name(project)
	if action == "release" {
		op = "remove container:" + Name(project)
	}
	if err != nil {
		status = progress.Failed
	}
	progress.FromContext(ctx).Event(progress.Event{
		Resource: resource(project), Action: action, Status: status, Op: op, Message: message, Time: time.Now(), Err: err,
	})
}
