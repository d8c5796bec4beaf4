package docker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dockerclient"
)

var _ engine.EventWatcher = (*Driver)(nil)

// Events follows the engine's events of the project's service containers,
// the lifecycle actions of engine.EventActions only (the engine filters
// them), until ctx is cancelled or o.Until passes.
func (d *Driver) Events(ctx context.Context, project string, o engine.EventsOptions, event func(engine.Event)) error {
	args := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("label", engine.LabelProject+"="+project),
	)
	for _, a := range engine.EventActions {
		args.Add("event", a)
	}
	// The client reads Since and Until as `docker events` does (a time,
	// or a duration before now).
	msgs, errs := d.client.Events(ctx, events.ListOptions{Filters: args, Since: o.Since, Until: o.Until})
	err := dockerclient.Follow(ctx, msgs, errs, func(m events.Message) {
		if c := eventContainer(m); !c.OneOff && selected(c, o.Services, 0) {
			event(eventOf(c, m))
		}
	})
	if err != nil {
		return fmt.Errorf("following the events of project %q: %w", project, err)
	}
	return nil
}

// eventOf is the engine's event m about c, without stack's labels in its
// attributes (they say only what Service and Container say).
func eventOf(c engine.Container, m events.Message) engine.Event {
	e := engine.Event{
		Time:       time.Unix(0, m.TimeNano),
		Service:    c.Service,
		Container:  c.Name,
		ID:         c.ID,
		Action:     string(m.Action),
		Attributes: map[string]string{},
	}
	if m.TimeNano == 0 {
		e.Time = time.Unix(m.Time, 0)
	}
	for k, v := range m.Actor.Attributes {
		if !strings.HasPrefix(k, "io.stack.") {
			e.Attributes[k] = v
		}
	}
	return e
}
