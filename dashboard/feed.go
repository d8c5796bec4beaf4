package dashboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
)

// retryAfter is how long a feed whose stream ended or failed waits before
// it follows again.
const retryAfter = 2 * time.Second

// follow runs stream until ctx ends, again after retryAfter each time it
// returns; a failure is shown on the page once per distinct message.
func (s *Server) follow(ctx context.Context, what string, stream func(ctx context.Context) error) {
	last := ""
	for ctx.Err() == nil {
		err := stream(ctx)
		if err != nil && ctx.Err() == nil && err.Error() != last {
			last = err.Error()
			s.publish("notice", fmt.Sprintf("%s: %v", what, err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryAfter):
		}
	}
}

// pollPs lists the project's containers soon after an event says something
// changed, and every s.listEvery besides (s.every without events). A
// listing inspects each running container too (its start time), which
// for 30 services every 2s was 15 inspects a second the engine answered
// for nothing: between events, nothing a listing shows changes (the page
// counts the uptime itself).
func (s *Server) pollPs(ctx context.Context) {
	every := s.every
	if s.src.Events != nil {
		every = s.listEvery
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
			t.Reset(200 * time.Millisecond) // an event comes in bursts: list once after them
			continue
		case <-t.C:
		}
		ps, err := s.src.Lister.Ps(ctx, s.project, true)
		if ctx.Err() != nil {
			return
		}
		s.board.setPs(ps, err)
		t.Reset(every)
	}
}

// followStats streams the containers' readings into the board.
func (s *Server) followStats(ctx context.Context) error {
	return s.src.Stats.Stats(ctx, s.project, engine.StatsOptions{Stream: true, Interval: s.statsEvery}, s.board.sample)
}

// followEvents hands each event to the page and has the services listed
// again.
func (s *Server) followEvents(ctx context.Context) error {
	return s.src.Events.Events(ctx, s.project, engine.EventsOptions{}, func(e engine.Event) {
		s.publish("event", e)
		select {
		case s.changed <- struct{}{}:
		default:
		}
		if e.Action == "start" {
			select {
			case s.started <- struct{}{}:
			default:
			}
		}
	})
}

// followLogs hands each line of the services' output to the page: the last
// lines of each container first, then the new ones; after a restart from
// where it was. A container that starts is not in a follow begun before
// it (the engine's streams are per container): its start event ends the
// follow, which is begun again.
func (s *Server) followLogs(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.started:
			cancel()
		}
	}()
	o := engine.LogsOptions{Follow: true, Tail: "20"}
	s.mu.Lock()
	if !s.lastLine.IsZero() {
		o.Tail, o.Since = "all", s.lastLine.Add(time.Nanosecond).Format(time.RFC3339Nano)
	}
	s.mu.Unlock()
	err := s.src.Logs.Logs(ctx, s.project, o, func(l engine.LogLine) {
		s.mu.Lock()
		if l.Time.After(s.lastLine) {
			s.lastLine = l.Time
		}
		s.mu.Unlock()
		s.publish("log", LogLine{Service: serviceOf(l.Container), Container: l.Container.Name, Number: l.Container.Number,
			Node: l.Node, Stream: l.Stream, Time: l.Time, Text: l.Text})
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// LogLine is a line of the log tail (JSON).
type LogLine struct {
	Service   string    `json:"service"`
	Container string    `json:"container"`
	Number    int       `json:"number"`
	Node      string    `json:"node,omitempty"`
	Stream    string    `json:"stream"`
	Time      time.Time `json:"time"`
	Text      string    `json:"text"`
}

// pollRoutes reads the gateway's counters every s.every and keeps each
// route's rates over the interval.
func (s *Server) pollRoutes(ctx context.Context) {
	prev := map[string]gateway.RouteCounters{}
	var at time.Time
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		now := time.Now()
		cur, err := s.src.Gateway.RouteMetrics(ctx, s.project)
		if err == nil {
			next := map[string]gateway.RouteCounters{}
			rows := make([]gateway.RouteStats, 0, len(cur))
			for _, c := range cur {
				key := c.Service + " " + c.Route
				next[key] = c
				var p *gateway.RouteCounters
				if pc, ok := prev[key]; ok {
					p = &pc
				}
				rows = append(rows, gateway.Interval(p, c, now.Sub(at)))
			}
			prev, at = next, now
			s.board.setRoutes(rows)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
