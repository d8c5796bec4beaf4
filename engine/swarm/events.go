package swarm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	timetypes "github.com/docker/docker/api/types/time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dockerclient"
)

// taskPoll is how often Events lists the project's tasks for their
// changes of state: the manager's event stream has none.
const taskPoll = time.Second

// Events follows what happens to the project's services and tasks, from
// the manager: its event stream for the services (create, update with the
// old and new replicas or image, remove; replayed from o.Since), and the
// tasks' changes of state as the manager records them (new, pending,
// assigned, ..., running, complete, failed, shutdown, rejected: Type
// "task", with the node, the desired state and any error), read every
// second; with o.Since the first reading gives the state of each task that
// changed since then (the manager keeps no earlier steps). It ends when
// ctx is cancelled or o.Until passes.
func (d *Driver) Events(ctx context.Context, project string, o engine.EventsOptions, event func(engine.Event)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	emit := func(e engine.Event) {
		if !wanted(e.Service, o.Services) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		event(e)
	}
	var since time.Time
	if o.Since != "" {
		ts, err := timetypes.GetTimestamp(o.Since, time.Now())
		if err != nil {
			return fmt.Errorf("--since %q: %w", o.Since, err)
		}
		sec, nsec, err := timetypes.ParseTimestamps(ts, 0)
		if err != nil {
			return fmt.Errorf("--since %q: %w", o.Since, err)
		}
		since = time.Unix(sec, nsec)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.pollTasks(ctx, project, since, emit)
	}()
	err := d.serviceEvents(ctx, project, o, emit)
	cancel()
	<-done
	return err
}

func wanted(service string, services []string) bool {
	if len(services) == 0 {
		return true
	}
	for _, s := range services {
		if s == service {
			return true
		}
	}
	return false
}

// serviceEvents follows the manager's service events of project's
// services: those named <project>_<service> that carry its label.
func (d *Driver) serviceEvents(ctx context.Context, project string, o engine.EventsOptions, emit func(engine.Event)) error {
	msgs, errs := d.client.Events(ctx, events.ListOptions{
		Filters: filters.NewArgs(filters.Arg("type", string(events.ServiceEventType))),
		Since:   o.Since, Until: o.Until,
	})
	ours := map[string]string{} // service ID -> compose service, or "" when not the project's
	err := dockerclient.Follow(ctx, msgs, errs, func(m events.Message) {
		svc, known := ours[m.Actor.ID]
		if !known {
			svc = d.projectService(ctx, project, m.Actor.ID, m.Actor.Attributes["name"])
			ours[m.Actor.ID] = svc
		}
		if svc != "" {
			emit(serviceEvent(svc, m))
		}
	})
	if err != nil {
		return fmt.Errorf("following the events of project %q: %w", project, err)
	}
	return nil
}

// projectService is the compose service of the Swarm service id (named
// name) when it is project's, else "". A service removed since is the
// project's by its name alone.
func (d *Driver) projectService(ctx context.Context, project, id, name string) string {
	svc, ok := strings.CutPrefix(name, project+"_")
	if !ok {
		return ""
	}
	s, _, err := d.client.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if err != nil {
		return svc
	}
	if s.Spec.Labels[engine.LabelProject] != project {
		return ""
	}
	return s.Spec.Labels[engine.LabelService]
}

func serviceEvent(svc string, m events.Message) engine.Event {
	e := engine.Event{Type: "service", Time: time.Unix(0, m.TimeNano), Service: svc, Container: m.Actor.Attributes["name"],
		ID: m.Actor.ID, Action: string(m.Action), Attributes: map[string]string{}}
	if m.TimeNano == 0 {
		e.Time = time.Unix(m.Time, 0)
	}
	for k, v := range m.Actor.Attributes {
		if k != "name" {
			e.Attributes[k] = v
		}
	}
	return e
}

// taskSeen is what a task was at the last listing.
type taskSeen struct{ state, desired string }

// pollTasks lists the project's tasks every taskPoll and reports each
// change of state since the listing before; the first listing reports the
// tasks that changed since since (none when it is zero).
func (d *Driver) pollTasks(ctx context.Context, project string, since time.Time, emit func(engine.Event)) {
	var seen map[string]taskSeen
	t := time.NewTicker(taskPoll)
	defer t.Stop()
	for {
		services, tasks, nodes, err := d.tasks(ctx, project, true)
		if err == nil {
			next := make(map[string]taskSeen, len(tasks))
			for _, tk := range tasks {
				now := taskSeen{string(tk.Status.State), string(tk.DesiredState)}
				next[tk.ID] = now
				changed := seen != nil && seen[tk.ID] != now
				replayed := seen == nil && !since.IsZero() && !tk.Status.Timestamp.Before(since)
				if changed || replayed {
					if svc, ok := services[tk.ServiceID]; ok && svc.Spec.Labels[engine.LabelOneoff] != "true" {
						emit(taskEvent(svc, tk, nodes[tk.NodeID]))
					}
				}
			}
			seen = next
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func taskEvent(svc swarm.Service, t swarm.Task, node swarm.Node) engine.Event {
	e := engine.Event{Type: "task", Time: t.Status.Timestamp, Service: svc.Spec.Labels[engine.LabelService], Container: taskName(svc, t),
		ID: t.ID, Action: string(t.Status.State), Attributes: map[string]string{"desired_state": string(t.DesiredState)}}
	if node.Description.Hostname != "" {
		e.Attributes["node"] = node.Description.Hostname
	}
	if t.Status.Err != "" {
		e.Attributes["error"] = t.Status.Err
	}
	if cs := t.Status.ContainerStatus; cs != nil {
		if cs.ContainerID != "" {
			e.Attributes["container"] = cs.ContainerID
		}
		if t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateComplete {
			e.Attributes["exitCode"] = strconv.Itoa(cs.ExitCode)
		}
	}
	return e
}
