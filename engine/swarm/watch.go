package swarm

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// pollInterval is how often the project's tasks are read while something
// waits: a task's state changes on its node, which raises no event on the
// manager; a service event (an update starting, finishing or rolling back)
// is read at once. Two list calls per interval, however many services wait:
// the manager answers them from memory.
const pollInterval = 100 * time.Millisecond

// snapshot is the project's services and tasks as read at one moment.
type snapshot struct {
	at       time.Time                // when the reading began
	services map[string]swarm.Service // by Swarm name
	tasks    map[string][]swarm.Task  // by service ID
	nodes    map[string]string        // node ID -> hostname
	err      error
	next     chan struct{} // closed once a newer snapshot replaces this one
}

// watcher reads the project's services and tasks for every wait of a run:
// one reading serves them all, however many services wait.
type watcher struct {
	client  Client
	project string
	cancel  context.CancelFunc
	done    chan struct{}

	mu    sync.Mutex
	cur   *snapshot
	first chan struct{} // closed once cur is set
}

// watch starts reading project's state, on each service event of the
// manager and every pollInterval, until stop.
func watch(ctx context.Context, c Client, project string) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{client: c, project: project, cancel: cancel, done: make(chan struct{}), first: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	msgs, errs := w.client.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", string(events.ServiceEventType)))})
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	nodes := map[string]string{}
	for {
		w.publish(w.read(ctx, nodes))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-msgs:
		case <-errs:
			// The stream ended (an old manager, a proxy): the ticker alone
			// drives the readings.
			msgs, errs = nil, nil
		}
	}
}

// read takes one snapshot: the project's services with their task counts,
// its tasks, and the names of nodes it has not seen before.
func (w *watcher) read(ctx context.Context, nodes map[string]string) *snapshot {
	s := &snapshot{at: time.Now(), services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}, next: make(chan struct{})}
	f := ProjectFilter(w.project)
	services, err := w.client.ServiceList(ctx, swarm.ServiceListOptions{Filters: f, Status: true})
	if err != nil {
		s.err = err
		return s
	}
	tasks, err := w.client.TaskList(ctx, swarm.TaskListOptions{Filters: f})
	if err != nil {
		s.err = err
		return s
	}
	for _, svc := range services {
		s.services[svc.Spec.Name] = svc
	}
	unknown := false
	for _, t := range tasks {
		s.tasks[t.ServiceID] = append(s.tasks[t.ServiceID], t)
		if _, ok := nodes[t.NodeID]; t.NodeID != "" && !ok {
			unknown = true
		}
	}
	if unknown {
		if list, err := w.client.NodeList(ctx, swarm.NodeListOptions{}); err == nil {
			for _, n := range list {
				nodes[n.ID] = n.Description.Hostname
			}
		}
	}
	s.nodes = make(map[string]string, len(nodes))
	for k, v := range nodes {
		s.nodes[k] = v
	}
	return s
}

func (w *watcher) publish(s *snapshot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur == nil {
		close(w.first)
	} else {
		close(w.cur.next)
	}
	w.cur = s
}

// after returns the first snapshot whose reading began at t or later,
// waiting for it; nil when ctx ends first.
func (w *watcher) after(ctx context.Context, t time.Time) *snapshot {
	select {
	case <-w.first:
	case <-ctx.Done():
		return nil
	}
	w.mu.Lock()
	s := w.cur
	w.mu.Unlock()
	for s.at.Before(t) {
		select {
		case <-s.next:
		case <-ctx.Done():
			return nil
		}
		w.mu.Lock()
		s = w.cur
		w.mu.Unlock()
	}
	return s
}

func (w *watcher) stop() { w.cancel(); <-w.done }
