package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
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
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil // the engine ends the stream at Until
			}
			return fmt.Errorf("following the events of project %q: %w", project, err)
		case m := <-msgs:
			c := eventContainer(m)
			if c.OneOff || !selected(c, o.Services, 0) {
				continue
			}
			event(eventOf(c, m))
		}
	}
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
