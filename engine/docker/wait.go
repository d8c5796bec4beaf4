package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
)

// clockSkew is how far behind ours an engine's clock may be.
const clockSkew = 10 * time.Second

// watcher fans the project's container events out to the waiters of each
// container. One subscription serves the whole session.
type watcher struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	subs   map[string]chan events.Message
	done   chan struct{} // closed when the stream ends; err says why
	err    error
}

// watch subscribes to the container events of project. Since replays the
// engine's recent events, so nothing between the subscription and the
// connection being established is lost.
func watch(ctx context.Context, c Client, project string, since time.Time) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{cancel: cancel, subs: map[string]chan events.Message{}, done: make(chan struct{})}
	msgs, errs := c.Events(ctx, events.ListOptions{
		// From a little before the session: a remote engine's clock may lag
		// ours. What this replays from before a container's current start
		// (the die of a `stack stop` just made, say) waitReady ignores, by
		// the engine's own clock.
		Since: fmt.Sprintf("%d.%09d", since.Add(-clockSkew).Unix(), since.Add(-clockSkew).Nanosecond()),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("label", engine.LabelProject+"="+project),
		),
	})
	go func() {
		defer close(w.done)
		for {
			select {
			case m := <-msgs:
				w.mu.Lock()
				ch := w.subs[m.Actor.ID]
				w.mu.Unlock()
				if ch != nil {
					select {
					case ch <- m:
					default: // the waiter has enough to decide on
					}
				}
			case err := <-errs:
				w.err = err
				return
			}
		}
	}()
	return w
}

func (w *watcher) subscribe(id string) chan events.Message {
	ch := make(chan events.Message, 64)
	w.mu.Lock()
	w.subs[id] = ch
	w.mu.Unlock()
	return ch
}

func (w *watcher) unsubscribe(id string) {
	w.mu.Lock()
	delete(w.subs, id)
	w.mu.Unlock()
}

func (w *watcher) stop() { w.cancel(); <-w.done }

// waitReady returns once container ref (a name or ID) of service is ready
// as cond says, driven by the event stream: its state is read once after
// subscribing to its events, then only events move it. A container that
// dies or turns unhealthy is an error carrying its exit code and last log
// lines.
//
// With monitor, a container once ready must stay so that long: dying or
// turning unhealthy meanwhile is a failure too (update_config.monitor).
func (s *executor) waitReady(ctx context.Context, service, ref string, cond engine.Condition, monitor time.Duration) error {
	if s.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, s.opts.Timeout, engine.ErrTimeout)
		defer cancel()
	}
	// Events name containers by ID: learn it, subscribe, then read the
	// state, so no change after that read is missed.
	ins, err := s.client.ContainerInspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("inspecting container %q of service %q: %w", ref, service, err)
	}
	id := ins.ID
	w := s.watcher(context.WithoutCancel(ctx))
	events := w.subscribe(id)
	defer w.unsubscribe(id)
	if ins, err = s.client.ContainerInspect(ctx, id); err != nil {
		return fmt.Errorf("inspecting container %q of service %q: %w", ref, service, err)
	}
	name := strings.TrimPrefix(ins.Name, "/")
	// Events from before this run of the container say nothing about it.
	var startedAt int64
	if ins.State != nil {
		if t, err := time.Parse(time.RFC3339Nano, ins.State.StartedAt); err == nil {
			startedAt = t.UnixNano()
		}
	}
	if cond == engine.Healthy && (ins.Config == nil || ins.Config.Healthcheck == nil || len(ins.Config.Healthcheck.Test) == 0 || ins.Config.Healthcheck.Test[0] == "NONE") {
		return fmt.Errorf("service %q: a dependant waits for it with condition service_healthy but it has no healthcheck: add a healthcheck to the service (or its image), or use condition service_started", service)
	}
	done, failure := readyFromState(cond, ins.State)
	for !done && failure == "" {
		select {
		case m := <-events:
			if m.TimeNano >= startedAt {
				done, failure = readyFromEvent(cond, m)
			}
		case <-w.done:
			if ctx.Err() == nil {
				return fmt.Errorf("waiting for service %q: watching engine events: %w", service, w.err)
			}
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			if errors.Is(context.Cause(ctx), engine.ErrTimeout) {
				return fmt.Errorf("service %q: container %s not %s after %s (--timeout): %w%s",
					service, name, cond, s.opts.Timeout, engine.ErrTimeout, s.lastLogs(ctx, id))
			}
			return ctx.Err()
		}
	}
	if failure == "" && monitor > 0 {
		if failure = monitorReady(ctx, events, w, monitor); failure == "" && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if failure == "" {
		return nil
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	detail := ""
	if strings.Contains(failure, "unhealthy") {
		if ins, err := s.client.ContainerInspect(lctx, id); err == nil && ins.State != nil && ins.State.Health != nil {
			if l := ins.State.Health.Log; len(l) > 0 {
				detail = fmt.Sprintf(" (last check: exit %d %q)", l[len(l)-1].ExitCode, strings.TrimSpace(l[len(l)-1].Output))
			}
		}
	}
	logs := s.lastLogs(lctx, id)
	if logs != "" {
		logs = "; last log lines:" + logs
	}
	return fmt.Errorf("service %q: container %s %s%s%s", service, name, failure, detail, logs)
}

// monitorReady watches a ready container's events for d: what it says when
// the container dies or turns unhealthy meanwhile; empty when it stays
// ready (or ctx ends).
func monitorReady(ctx context.Context, msgs <-chan events.Message, w *watcher, d time.Duration) string {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case m := <-msgs:
			action := string(m.Action)
			switch {
			case action == string(events.ActionDie):
				return fmt.Sprintf("exited with code %s within %s of being ready (update_config.monitor)", m.Actor.Attributes["exitCode"], d)
			case strings.TrimSpace(strings.TrimPrefix(action, "health_status:")) == container.Unhealthy:
				return fmt.Sprintf("turned unhealthy within %s of being ready (update_config.monitor)", d)
			}
		case <-w.done:
			return ""
		case <-t.C:
			return ""
		case <-ctx.Done():
			return ""
		}
	}
}

// readyFromState decides from an inspected state: done, or a failure, or
// neither (keep waiting).
func readyFromState(cond engine.Condition, st *container.State) (bool, string) {
	if st == nil {
		return false, ""
	}
	exited := !st.Running && (st.Status == "exited" || st.Status == "dead")
	switch cond {
	case engine.Completed:
		if exited {
			if st.ExitCode == 0 {
				return true, ""
			}
			return false, fmt.Sprintf("exited with code %d", st.ExitCode)
		}
	case engine.Healthy:
		if exited {
			return false, fmt.Sprintf("exited with code %d before it was healthy", st.ExitCode)
		}
		if st.Health != nil {
			switch st.Health.Status {
			case container.Healthy:
				return true, ""
			case container.Unhealthy:
				return false, "is unhealthy"
			}
		}
	default:
		if st.Running {
			return true, ""
		}
		if exited {
			return false, fmt.Sprintf("exited with code %d", st.ExitCode)
		}
	}
	return false, ""
}

// readyFromEvent decides from one container event, as readyFromState.
func readyFromEvent(cond engine.Condition, m events.Message) (bool, string) {
	action := string(m.Action)
	switch {
	case action == string(events.ActionDie):
		code := m.Actor.Attributes["exitCode"]
		if cond == engine.Completed && code == "0" {
			return true, ""
		}
		if cond == engine.Healthy {
			return false, "exited with code " + code + " before it was healthy"
		}
		return false, "exited with code " + code
	case cond == engine.Healthy && strings.HasPrefix(action, "health_status"):
		switch strings.TrimSpace(strings.TrimPrefix(action, "health_status:")) {
		case container.Healthy:
			return true, ""
		case container.Unhealthy:
			return false, "is unhealthy"
		}
	case cond == engine.Started && action == string(events.ActionStart):
		return true, ""
	}
	return false, ""
}

// lastLogs reads a failed container's last lines for the error, even when
// ctx is done, within cleanupTimeout.
func (s *executor) lastLogs(ctx context.Context, id string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return LastLogs(ctx, s.client, id, 10)
}
