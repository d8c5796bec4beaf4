package enginetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
)

// Memory is a driver whose engine is a map in memory: what a test of the
// deploy protocol needs of an engine, and what the smallest driver looks
// like. A service is its state: its replicas, all running, all of the
// config hash they were made from; networks and volumes are names. It keeps its projects' deploy
// locks itself, and counts what it is asked. It is not a Creator: `stack
// create` is refused on it. Its zero value is an empty engine.
type Memory struct {
	mu    sync.Mutex
	state engine.Observed
	// BeforeObserve, when set, runs before each Observe with its count
	// (1 for the first): a test moves the engine there, as another run
	// would between a plan and the lock.
	BeforeObserve func(n int, m *Memory)
	// Observes and Applied count the Observe calls and the operations
	// executed.
	Observes, Applied int
	// Runs lists the one-offs run ("service: command", with the replicas
	// the service had then), and Exit their exit codes by command.
	Runs  []string
	Exit  map[string]int
	locks memoryLocks
}

var (
	_ engine.Driver = (*Memory)(nil)
	_ engine.Locker = (*Memory)(nil)
	_ engine.Runner = (*Memory)(nil)
)

// Name is "memory".
func (m *Memory) Name() string { return "memory" }

// Set replaces the engine's state.
func (m *Memory) Set(o *engine.Observed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = *clone(o)
}

// State returns a copy of the engine's state.
func (m *Memory) State() *engine.Observed {
	m.mu.Lock()
	defer m.mu.Unlock()
	return clone(&m.state)
}

func clone(o *engine.Observed) *engine.Observed {
	return &engine.Observed{Services: slices.Clone(o.Services), Networks: slices.Clone(o.Networks), Volumes: slices.Clone(o.Volumes)}
}

// Observe returns a copy of the state.
func (m *Memory) Observe(context.Context, *manifest.Project) (*engine.Observed, error) {
	m.mu.Lock()
	m.Observes++
	n, hook := m.Observes, m.BeforeObserve
	m.mu.Unlock()
	if hook != nil {
		hook(n, m)
	}
	return m.State(), nil
}

// Check honours every field.
func (m *Memory) Check(context.Context, *manifest.Project, []string) (engine.Warnings, error) {
	return nil, nil
}

// Facts know no image: no EXPOSE port, no HEALTHCHECK.
func (m *Memory) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	return image.InspectFacts(ctx, nil, p)
}

// Operations makes one operation per action that changes something, after
// those of the actions it waits for.
func (m *Memory) Operations(plan *engine.Plan) (*engine.Graph, error) {
	g := &engine.Graph{}
	ids := map[string]string{}
	for _, a := range plan.Actions {
		if a.Kind == engine.Unchanged {
			continue
		}
		op := &engine.Op{Kind: engine.OpCreate, Target: a.Resource, Action: a.Resource, Payload: a}
		if a.Kind == engine.Remove {
			op.Kind = engine.OpRemove
		}
		for _, w := range a.WaitsFor {
			if id, ok := ids[w]; ok {
				op.Needs = append(op.Needs, id)
			}
		}
		ids[a.Resource] = g.Add(op)
	}
	return g, g.Check()
}

// Begin opens nothing: a run only needs the plan's desired project.
func (m *Memory) Begin(_ context.Context, plan *engine.Plan, _ engine.ApplyOptions) (engine.Executor, error) {
	return memoryRun{m, plan}, nil
}

type memoryRun struct {
	m    *Memory
	plan *engine.Plan
}

func (r memoryRun) Close() error { return nil }

// Execute makes the state what op's action says: a service's replicas as
// many as it asks for, all of its desired hash; a network or volume
// present, or gone.
func (r memoryRun) Execute(_ context.Context, op *engine.Op, _ engine.Notes) error {
	a := op.Payload.(*engine.Action)
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Applied++
	if a.Type() != "service" {
		gone := func(r engine.Resource) bool { return r.Key == a.Name() }
		m.state.Networks = slices.DeleteFunc(m.state.Networks, gone)
		m.state.Volumes = slices.DeleteFunc(m.state.Volumes, gone)
		if a.Kind == engine.Remove {
			return nil
		}
	}
	switch a.Type() {
	case "service":
		m.state.Services = slices.DeleteFunc(m.state.Services, func(s engine.ServiceState) bool { return s.Name == a.Name() })
		if a.Kind == engine.Remove {
			return nil
		}
		s := r.plan.Desired.Project.Services[a.Name()]
		n := s.GetScale()
		m.state.Services = append(m.state.Services, engine.ServiceState{Name: a.Name(), Replicas: n, Running: n,
			Versions: []engine.Version{{Hash: a.ConfigHash, Parts: a.ConfigParts, Count: n}}})
	case "network":
		cfg := r.plan.Desired.Project.Networks[a.Name()]
		h, err := engine.ResourceHash(cfg)
		m.state.Networks = append(m.state.Networks, engine.Resource{Key: a.Name(), Name: cfg.Name, Hash: h})
		return err
	case "volume":
		cfg := r.plan.Desired.Project.Volumes[a.Name()]
		h, err := engine.ResourceHash(cfg)
		m.state.Volumes = append(m.state.Volumes, engine.Resource{Key: a.Name(), Name: cfg.Name, Hash: h})
		return err
	}
	return nil
}

// Locks keeps the locks in memory.
func (m *Memory) Locks() lock.Locks { return &m.locks }

// Hold takes project's lock for holder, as another run would.
func (m *Memory) Hold(project, holder string) {
	m.locks.mu.Lock()
	defer m.locks.mu.Unlock()
	if m.locks.held == nil {
		m.locks.held = map[string]*lock.Holder{}
	}
	m.locks.held[project] = &lock.Holder{Command: holder}
}

// Let lets another run's lock on project go.
func (m *Memory) Let(project string) {
	m.locks.mu.Lock()
	defer m.locks.mu.Unlock()
	delete(m.locks.held, project)
}

type memoryLocks struct {
	mu       sync.Mutex
	held     map[string]*lock.Holder
	acquired int
}

// AcquiredLocks counts the locks this driver's Locks gave out.
func (m *Memory) AcquiredLocks() int {
	m.locks.mu.Lock()
	defer m.locks.mu.Unlock()
	return m.locks.acquired
}

func (l *memoryLocks) Acquire(ctx context.Context, project string, o lock.Options) (lock.Held, error) {
	deadline := time.Now().Add(o.Wait)
	for {
		l.mu.Lock()
		h, taken := l.held[project]
		if !taken {
			if l.held == nil {
				l.held = map[string]*lock.Holder{}
			}
			l.held[project] = &o.Holder
			l.acquired++
			l.mu.Unlock()
			ctx, cancel := context.WithCancel(ctx)
			return &memoryHeld{l: l, project: project, ctx: ctx, cancel: cancel}, nil
		}
		l.mu.Unlock()
		if !time.Now().Before(deadline) {
			return nil, &lock.HeldError{Project: project, Holder: *h, Waited: o.Wait}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (l *memoryLocks) Free(_ context.Context, project string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, taken := l.held[project]
	return !taken, nil
}

func (l *memoryLocks) Status(_ context.Context, project string) (*lock.Holder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[project], nil
}

func (l *memoryLocks) Break(_ context.Context, project string) (*lock.Holder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held[project]
	delete(l.held, project)
	return h, nil
}

type memoryHeld struct {
	l       *memoryLocks
	project string
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
}

func (h *memoryHeld) Context() context.Context { return h.ctx }
func (h *memoryHeld) Lost() error              { return nil }

func (h *memoryHeld) Release(context.Context) error {
	h.once.Do(func() {
		h.cancel()
		h.l.mu.Lock()
		delete(h.l.held, h.project)
		h.l.mu.Unlock()
	})
	return nil
}

// Run records a one-off of o.Service and returns its exit code (Exit's,
// else 0).
func (m *Memory) Run(_ context.Context, _ *manifest.Project, o engine.RunOptions) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	if s := m.state.Service(o.Service); s != nil {
		n = s.Replicas
	}
	cmd := strings.Join(o.Command, " ")
	m.Runs = append(m.Runs, fmt.Sprintf("%s: %s (%d replicas)", o.Service, cmd, n))
	return m.Exit[cmd], nil
}
