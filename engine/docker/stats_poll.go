package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/events"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/engine"
)

// Polling is what keeps following a project cheap for the engine. Docker
// 20.10 has one collector: every second it reads the cgroups (through
// containerd and the container's shim) and the network counters (inside
// the container's namespace) of every container that someone follows, and
// hands each reading to its followers. A stream follows its container for
// as long as it is open; a one-shot read (API 1.41) follows it until the
// next collection (at once when the collector is idle) and takes that one
// reading, without waiting for a second to compute a CPU figure. So the
// engine's work is per collection of a container, and reading every
// o.Interval costs it what a stream costs divided by the interval in
// seconds. The CPU figure is computed against stack's previous reading of
// the container, from the engine's figures of both (its CPU time and the
// machine's), as the engine computes a stream's.
//
// A round reads every container at once: the reads wait for the same
// collection, where reads a few at a time would wait for one each.
//
// An engine on this machine is not asked at all: a container whose cgroup
// stack can read (cgroupReader) is read there, which costs the engine
// nothing, at any interval.

// statsPoll follows project's containers every o.Interval (default: every
// second): from their cgroups where it can, else with the engine's
// one-shot reads (though Stats streams from a remote engine at a second).
func (d *Driver) statsPoll(ctx context.Context, project string, o engine.StatsOptions, emit func(engine.Sample)) error {
	every := o.Interval
	if every <= 0 {
		every = time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs, running, err := d.statsFollow(ctx, project, o, emit, events.ActionUpdate)
	if err != nil {
		return err
	}
	p := statsPoller{d: d, emit: emit, followed: map[string]*polled{}}
	for _, c := range running {
		p.followed[c.ID] = &polled{c: c}
	}
	// The first round gives no CPU figures (nothing to compare with): the
	// second comes within a second, so that they show soon, then every
	// interval.
	_ = p.round(ctx)
	t := time.NewTimer(min(every, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return eventsEnded(ctx, project, err)
		case m := <-msgs:
			if c := eventContainer(m); !c.OneOff && selected(c, o.Services, 0) {
				p.event(m.Action, c)
			}
		case <-t.C:
			_ = p.round(ctx) // a container that cannot be read is stopping: its die event follows
			t.Reset(untilNext(time.Now(), every))
		}
	}
}

// statsPoller holds what statsPoll knows of each container it follows;
// only statsPoll's loop changes followed, between rounds.
type statsPoller struct {
	d        *Driver
	emit     func(engine.Sample)
	followed map[string]*polled // by container ID
}

// polled is a followed container: its limits and cgroup, found once
// (again after an update event), and its previous CPU reading.
type polled struct {
	c    engine.Container
	t    *target
	prev cpuReading
}

func (p *statsPoller) event(action events.Action, c engine.Container) {
	switch action {
	case events.ActionStart:
		if _, ok := p.followed[c.ID]; !ok {
			p.followed[c.ID] = &polled{c: c}
		}
	case events.ActionDie:
		if _, ok := p.followed[c.ID]; ok {
			delete(p.followed, c.ID)
			p.emit(engine.Sample{Container: c, Time: time.Now(), Gone: true})
		}
	case events.ActionUpdate: // `docker update` may have changed its limits
		if f, ok := p.followed[c.ID]; ok {
			f.t = nil
		}
	}
}

// round reads every followed container once, and returns the first error
// of a container that could not be read (it is left out of the round).
func (p *statsPoller) round(ctx context.Context) error {
	var g errgroup.Group
	for _, f := range p.followed {
		g.Go(func() error {
			if f.t == nil {
				t, err := p.d.target(ctx, f.c)
				if err != nil {
					return err
				}
				f.t = &t
			}
			v, err := p.d.readOnce(ctx, f.c, f.t.local)
			if err != nil {
				return err
			}
			v.PreCPUStats, f.prev = f.prev, v.CPUStats
			if ctx.Err() == nil {
				p.emit(sampleOf(f.c, f.t.lim, v))
			}
			return nil
		})
	}
	return g.Wait()
}

// untilNext is the time from now to the next multiple of every on the
// clock. Rounds on the clock's multiples make the rounds of two readers of
// a project at the same interval (stack dashboard and stack stats) ask at
// the same moments, so that the engine collects each container once for
// both: its collector reads a container once for all who follow it.
func untilNext(now time.Time, every time.Duration) time.Duration {
	d := now.Truncate(every).Add(every).Sub(now)
	if d < every/10 { // a round that ended just before a multiple skips it
		d += every
	}
	return d
}

// readOnce is c's usage now from its cgroup local, or without one at the
// engine's next collection, without the second one a CPU figure needs
// (API 1.41's one-shot stats).
func (d *Driver) readOnce(ctx context.Context, c engine.Container, local *cgroupReader) (reading, error) {
	if local != nil {
		v, err := local.read()
		if err != nil {
			return v, fmt.Errorf("reading the resource usage of container %q: %w", c.Name, err)
		}
		return v, nil
	}
	r, err := d.client.ContainerStatsOneShot(ctx, c.ID)
	if err != nil {
		return reading{}, fmt.Errorf("reading the resource usage of container %q: %w", c.Name, err)
	}
	defer r.Body.Close()
	return decodeReading(json.NewDecoder(r.Body), c)
}
