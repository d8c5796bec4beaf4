package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/versions"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.StatsReader = (*Driver)(nil)

// Stats gives the resource usage of the project's running service
// containers. An engine on this machine (a unix socket, on Linux) is not
// asked: each container is read where the engine itself reads it, its
// cgroup and network namespace (cgroupReader), every o.Interval
// (statsPoll), or without o.Stream twice, a second apart. An engine
// elsewhere, or a container whose cgroup cannot be read, is asked: without
// o.Stream, one sample each (the engine takes about a second to give one
// its CPU figure, whatever the number of containers); with it, one engine
// stream per container (a reading a second, as docker stats), opened for
// those running and for each that starts later (the project's start
// events), closed when it dies; with an o.Interval longer than a second,
// API 1.41's one-shot reads every o.Interval instead (statsPoll): polling
// the engine every second cost it more than the streams did (each read is
// a request the engine answers, then forgets its follower).
func (d *Driver) Stats(ctx context.Context, project string, o engine.StatsOptions, sample func(engine.Sample)) error {
	var mu sync.Mutex
	emit := func(s engine.Sample) {
		mu.Lock()
		defer mu.Unlock()
		sample(s)
	}
	if !o.Stream {
		return d.statsOnce(ctx, project, o, emit)
	}
	d.client.NegotiateAPIVersion(ctx)
	if (o.Interval <= time.Second && !d.readsCgroups(ctx, project, o)) || versions.LessThan(d.client.ClientVersion(), "1.41") {
		return d.statsStream(ctx, project, o, emit)
	}
	return d.statsPoll(ctx, project, o, emit)
}

// statsContainers lists the service containers of project o selects: those
// running, or with o.All every one.
func (d *Driver) statsContainers(ctx context.Context, project string, o engine.StatsOptions) ([]engine.Container, error) {
	cs, err := d.client.ContainerList(ctx, container.ListOptions{All: o.All, Filters: ProjectFilter(project)})
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %q: %w", project, err)
	}
	var out []engine.Container
	for _, c := range cs {
		oc := observedContainer(nil, c)
		if !oc.OneOff && selected(oc, o.Services, 0) {
			out = append(out, oc)
		}
	}
	return out, nil
}

func (d *Driver) statsOnce(ctx context.Context, project string, o engine.StatsOptions, emit func(engine.Sample)) error {
	cs, err := d.statsContainers(ctx, project, o)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range cs {
		if !c.Running() {
			emit(engine.Sample{Container: c, Time: time.Now()})
			continue
		}
		g.Go(func() error {
			s, err := d.sampleOnce(gctx, c)
			if err == nil {
				emit(s)
			}
			return err
		})
	}
	return g.Wait()
}

// cpuWindow is the time over which a single sample's CPU figure is
// computed from two readings of a container's cgroup: the engine's
// collection interval, so that figures compare with docker stats'.
const cpuWindow = time.Second

// sampleOnce reads running container c once: from its cgroup when it can
// (two readings cpuWindow apart), else from the engine.
func (d *Driver) sampleOnce(ctx context.Context, c engine.Container) (engine.Sample, error) {
	if d.local() {
		t, err := d.target(ctx, c)
		if err != nil {
			return engine.Sample{}, err
		}
		if t.local != nil {
			v, err := t.local.readOver(ctx, cpuWindow)
			if err != nil {
				return engine.Sample{}, fmt.Errorf("reading the resource usage of container %q: %w", c.Name, err)
			}
			return sampleOf(c, t.lim, v), nil
		}
	}
	return d.engineSample(ctx, c)
}

// engineSample reads c once from the engine. Its limits are read while
// the engine prepares the reading, so that the request for it goes out at
// once: the engine answers at its second collection after the request.
func (d *Driver) engineSample(ctx context.Context, c engine.Container) (engine.Sample, error) {
	var t target
	inspected := make(chan error, 1)
	go func() {
		var err error
		t, err = d.target(ctx, c)
		inspected <- err
	}()
	v, err := d.readStats(ctx, c)
	if ierr := <-inspected; ierr != nil {
		return engine.Sample{}, ierr
	}
	if err != nil {
		return engine.Sample{}, err
	}
	return sampleOf(c, t.lim, v), nil
}

// readStats reads c's usage once. The engine gives it when it has made two
// of its readings, a second apart (all containers' at once), so that the
// sample has a CPU figure.
func (d *Driver) readStats(ctx context.Context, c engine.Container) (reading, error) {
	r, err := d.client.ContainerStats(ctx, c.ID, false)
	if err != nil {
		return reading{}, fmt.Errorf("reading the resource usage of container %q: %w", c.Name, err)
	}
	defer r.Body.Close()
	return decodeReading(json.NewDecoder(r.Body), c)
}

func (d *Driver) statsStream(ctx context.Context, project string, o engine.StatsOptions, emit func(engine.Sample)) error {
	ctx, cancel := context.WithCancel(ctx)
	f := &statsFollower{d: d, emit: emit, streams: map[string]*statsStream{}, ended: make(chan statsEnd)}
	defer func() {
		cancel() // every stream ends with ctx
		f.wg.Wait()
	}()
	msgs, errs, running, err := d.statsFollow(ctx, project, o, emit)
	if err != nil {
		return err
	}
	for _, c := range running {
		f.follow(ctx, c)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return eventsEnded(ctx, project, err)
		case e := <-f.ended:
			if f.streams[e.id] == e.s {
				delete(f.streams, e.id)
			}
		case m := <-msgs:
			if c := eventContainer(m); !c.OneOff && selected(c, o.Services, 0) {
				f.event(ctx, m.Action, c)
			}
		}
	}
}

// statsFollow subscribes to the start and die events (and those of more)
// of project's containers, then lists them, so that one starting in
// between is not missed (one listed and started again is followed once).
// It gives a sample of nothing used for each stopped one o selects, and
// returns those running.
func (d *Driver) statsFollow(ctx context.Context, project string, o engine.StatsOptions, emit func(engine.Sample), more ...events.Action) (<-chan events.Message, <-chan error, []engine.Container, error) {
	args := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("label", engine.LabelProject+"="+project),
		filters.Arg("event", string(events.ActionStart)),
		filters.Arg("event", string(events.ActionDie)),
	)
	for _, a := range more {
		args.Add("event", string(a))
	}
	msgs, errs := d.client.Events(ctx, events.ListOptions{Filters: args})
	cs, err := d.statsContainers(ctx, project, o)
	if err != nil {
		return nil, nil, nil, err
	}
	var running []engine.Container
	for _, c := range cs {
		if c.Running() {
			running = append(running, c)
		} else {
			emit(engine.Sample{Container: c, Time: time.Now()})
		}
	}
	return msgs, errs, running, nil
}

// eventsEnded is what following a project's stats returns when its event
// stream ends with err: nothing when ctx was cancelled.
func eventsEnded(ctx context.Context, project string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("following the containers of project %q: %w", project, err)
}

// statsFollower keeps one stats stream per running container of a
// project; only statsStream's loop reads and changes streams.
type statsFollower struct {
	d       *Driver
	emit    func(engine.Sample)
	wg      sync.WaitGroup
	streams map[string]*statsStream // by container ID
	ended   chan statsEnd
}

type statsStream struct {
	stop context.CancelFunc
	done chan struct{}
}

// statsEnd is a stream that ended by itself.
type statsEnd struct {
	id string
	s  *statsStream
}

// follow opens c's stream, unless it has one.
func (f *statsFollower) follow(ctx context.Context, c engine.Container) {
	if _, ok := f.streams[c.ID]; ok {
		return
	}
	sctx, stop := context.WithCancel(ctx)
	s := &statsStream{stop: stop, done: make(chan struct{})}
	f.streams[c.ID] = s
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(s.done)
		f.d.followStats(sctx, c, f.emit)
		if sctx.Err() != nil {
			return // stopped by the loop, which says the container is gone
		}
		// Ended by itself: the container stopped, or its stream failed.
		f.emit(engine.Sample{Container: c, Time: time.Now(), Gone: true})
		select {
		case f.ended <- statsEnd{c.ID, s}:
		case <-sctx.Done():
		}
	}()
}

// event follows a container that started, and closes the stream of one
// that died: its last sample is in before it is said gone, and before a
// start again opens a new stream.
func (f *statsFollower) event(ctx context.Context, action events.Action, c engine.Container) {
	switch action {
	case events.ActionStart:
		f.follow(ctx, c)
	case events.ActionDie:
		if s, ok := f.streams[c.ID]; ok {
			s.stop()
			<-s.done
			delete(f.streams, c.ID)
			f.emit(engine.Sample{Container: c, Time: time.Now(), Gone: true})
		}
	}
}

// followStats emits the samples of one container's stream until it ends
// or ctx is cancelled. A stream that cannot be opened or read ends the
// container's samples, not the others'.
func (d *Driver) followStats(ctx context.Context, c engine.Container, emit func(engine.Sample)) {
	t, err := d.target(ctx, c)
	if err != nil {
		return
	}
	r, err := d.client.ContainerStats(ctx, c.ID, true)
	if err != nil {
		return
	}
	defer r.Body.Close()
	dec := json.NewDecoder(r.Body)
	for {
		v, err := decodeReading(dec, c)
		if err != nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		emit(sampleOf(c, t.lim, v))
	}
}

// limits are what a container may use: CPUs (0: no limit) and whether its
// memory is limited (the engine's figure is the machine's when not).
type limits struct {
	cpus   float64
	memory bool
}

// target is what reading a container's usage needs: its limits, and its
// cgroup when its engine runs on this machine (nil: read through the
// engine).
type target struct {
	lim   limits
	local *cgroupReader
}

// local is whether the engine may run on this machine, where its
// containers' cgroups can be read.
func (d *Driver) local() bool {
	return cgroupsHere && strings.HasPrefix(d.client.DaemonHost(), "unix://")
}

// readsCgroups is whether project's containers can be read from their
// cgroups, as far as its first running one says (when none runs, whether
// the engine may be on this machine): an engine behind a unix socket but
// in a virtual machine (Docker Desktop) or a PID namespace of its own (stack
// in a container, the socket mounted) is read through its streams, which
// cost it less than one-shot reads every second.
func (d *Driver) readsCgroups(ctx context.Context, project string, o engine.StatsOptions) bool {
	if !d.local() {
		return false
	}
	cs, err := d.statsContainers(ctx, project, o)
	if err != nil {
		return true // the stats' own listing says why
	}
	for _, c := range cs {
		if c.Running() {
			t, err := d.target(ctx, c)
			return err != nil || t.local != nil
		}
	}
	return true
}

func (d *Driver) target(ctx context.Context, c engine.Container) (target, error) {
	ins, err := d.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return target{}, fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	var t target
	if h := ins.HostConfig; h != nil {
		switch {
		case h.NanoCPUs > 0:
			t.lim.cpus = float64(h.NanoCPUs) / 1e9
		case h.CPUQuota > 0:
			period := h.CPUPeriod
			if period <= 0 {
				period = 100000 // the kernel's default CFS period, in µs
			}
			t.lim.cpus = float64(h.CPUQuota) / float64(period)
		}
		t.lim.memory = h.Memory > 0
		if d.local() && ins.State != nil {
			// A cgroup that cannot be read (an engine in a virtual
			// machine or a PID namespace of its own, no permission) is
			// read through the engine.
			t.local, _ = openCgroup(ins.ID, ins.State.Pid, h.NetworkMode.IsHost())
		}
	}
	return t, nil
}

// eventContainer reads the container an event is about from its
// attributes (the container's labels, its name and image).
func eventContainer(m events.Message) engine.Container {
	a := m.Actor.Attributes
	c := engine.Container{
		ID:      m.Actor.ID,
		Name:    a["name"],
		Service: a[engine.LabelService],
		OneOff:  a[engine.LabelOneoff] == "true",
	}
	c.Number, _ = strconv.Atoi(a[engine.LabelContainerNumber])
	return c
}
