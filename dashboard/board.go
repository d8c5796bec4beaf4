package dashboard

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
)

// historyLength is how many one-second points of CPU and memory a service
// keeps: the plots show the last five minutes.
const historyLength = 300

// board is what the page shows, kept up to date by the feeds; snapshot
// copies it for the page. Its methods are safe for concurrent use.
type board struct {
	mu       sync.Mutex
	project  string
	notes    []string
	declared []string // the manifest's services, in order
	ps       []engine.Status
	psErr    string
	samples  map[string]engine.Sample // by container ID, the latest reading
	history  map[string]*series       // by service
	routes   []gateway.RouteStats

	releases    []Release
	releasesErr string
}

// series is a service's CPU (percent of one CPU, summed over its
// containers) and memory (bytes) per second, oldest first.
type series struct {
	CPU    []float64 `json:"cpu"`
	Memory []float64 `json:"memory"`
}

// gatewayService is how the page names the project's gateway, which has no
// compose service (its containers carry none): in parentheses, so that no
// service of the project can have its name.
const gatewayService = "(gateway)"

// serviceOf is the page's name of a container's service.
func serviceOf(c engine.Container) string {
	if c.Service == "" {
		return gatewayService
	}
	return c.Service
}

func newBoard(project string, services []string) *board {
	return &board{project: project, declared: services, samples: map[string]engine.Sample{}, history: map[string]*series{}}
}

// setPs records a listing of the project's containers, or why it failed.
func (b *board) setPs(ps []engine.Status, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.psErr = err.Error()
		return
	}
	for i := range ps {
		ps[i].Service = serviceOf(ps[i].Container)
	}
	b.ps, b.psErr = ps, ""
}

// sample records a container's reading; a Gone one forgets it.
func (b *board) sample(s engine.Sample) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.Gone {
		delete(b.samples, s.Container.ID)
		return
	}
	b.samples[s.Container.ID] = s
}

func (b *board) setRoutes(rs []gateway.RouteStats) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.routes = rs
}

// record appends a point per service to the history: the sums of its
// containers' latest readings (none: 0).
func (b *board) record() {
	b.mu.Lock()
	defer b.mu.Unlock()
	cpu, mem := map[string]float64{}, map[string]float64{}
	for _, s := range b.samples {
		cpu[serviceOf(s.Container)] += s.CPUPercent
		mem[serviceOf(s.Container)] += float64(s.MemoryUsage)
	}
	for _, name := range b.serviceNames() {
		h := b.history[name]
		if h == nil {
			h = &series{}
			b.history[name] = h
		}
		h.CPU = appendBounded(h.CPU, cpu[name])
		h.Memory = appendBounded(h.Memory, mem[name])
	}
}

func appendBounded(xs []float64, x float64) []float64 {
	if len(xs) >= historyLength {
		xs = slices.Delete(xs, 0, len(xs)-historyLength+1)
	}
	return append(xs, x)
}

// serviceNames are the declared services, then any other the engine has,
// sorted. Callers hold mu.
func (b *board) serviceNames() []string {
	names := slices.Clone(b.declared)
	var extra []string
	for _, st := range b.ps {
		if !slices.Contains(names, st.Service) && !slices.Contains(extra, st.Service) && !st.OneOff {
			extra = append(extra, st.Service)
		}
	}
	sort.Strings(extra)
	return append(names, extra...)
}

// State is what the page is sent each second (JSON).
type State struct {
	Project  string    `json:"project"`
	Time     time.Time `json:"time"`
	Notes    []string  `json:"notes"`
	PsError  string    `json:"ps_error,omitempty"`
	Services []Service `json:"services"`
	Routes   []Route   `json:"routes"`
	// Releases are the environment's, newest first; ReleasesError why
	// they cannot be read.
	Releases      []Release `json:"releases"`
	ReleasesError string    `json:"releases_error,omitempty"`
}

// Service is one service of State.
type Service struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Running and Total count its containers (tasks); State sums them up:
	// running, partial, exited, created, ... or "not created".
	Running  int       `json:"running"`
	Total    int       `json:"total"`
	State    string    `json:"state"`
	Health   string    `json:"health"`
	Started  time.Time `json:"started,omitzero"`
	Replicas []Replica `json:"replicas"`
	CPU      float64   `json:"cpu_percent"`
	Memory   uint64    `json:"memory_bytes"`
	History  series    `json:"history"`
}

// Replica is one container (task) of a service.
type Replica struct {
	Name    string    `json:"name"`
	Number  int       `json:"number"`
	State   string    `json:"state"`
	Health  string    `json:"health,omitempty"`
	Node    string    `json:"node,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// Route is a gateway route's figures over the last reading.
type Route struct {
	Route             string  `json:"route"`
	Service           string  `json:"service"`
	Requests          float64 `json:"requests"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	ErrorsPerSecond   float64 `json:"errors_5xx_per_second"`
	P50               float64 `json:"p50_ms"`
	P99               float64 `json:"p99_ms"`
}

// snapshot is the board as the page shows it at now.
func (b *board) snapshot(now time.Time) State {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := State{Project: b.project, Time: now, Notes: append([]string{}, b.notes...), PsError: b.psErr, Services: []Service{}, Routes: []Route{},
		Releases: append([]Release{}, b.releases...), ReleasesError: b.releasesErr}
	for _, name := range b.serviceNames() {
		st.Services = append(st.Services, b.service(name))
	}
	for _, r := range b.routes {
		st.Routes = append(st.Routes, Route{Route: r.Route, Service: r.Service, Requests: r.Requests,
			RequestsPerSecond: r.RequestsPerSecond, ErrorsPerSecond: r.ErrorsPerSecond,
			P50: float64(r.P50.Microseconds()) / 1000, P99: float64(r.P99.Microseconds()) / 1000})
	}
	return st
}

// service sums up one service's containers. Callers hold mu.
func (b *board) service(name string) Service {
	s := Service{Name: name, Replicas: []Replica{}}
	states, health := map[string]int{}, map[string]int{}
	for _, c := range b.ps {
		if c.Service != name || c.OneOff {
			continue
		}
		s.Image = c.Image
		s.Total++
		states[c.State]++
		if c.Health != "" {
			health[c.Health]++
		}
		if c.State == "running" {
			s.Running++
			if s.Started.IsZero() || c.Started.Before(s.Started) {
				s.Started = c.Started
			}
		}
		s.Replicas = append(s.Replicas, Replica{Name: c.Name, Number: c.Number, State: c.State, Health: c.Health, Node: c.Node, Started: c.Started, Error: c.Error})
	}
	sort.Slice(s.Replicas, func(i, j int) bool { return s.Replicas[i].Number < s.Replicas[j].Number })
	s.State = sumState(s.Running, s.Total, states)
	s.Health = sumHealth(health)
	for _, smp := range b.samples {
		if serviceOf(smp.Container) == name {
			s.CPU += smp.CPUPercent
			s.Memory += smp.MemoryUsage
		}
	}
	if h := b.history[name]; h != nil {
		s.History = series{CPU: slices.Clone(h.CPU), Memory: slices.Clone(h.Memory)}
	}
	return s
}

// sumState is "running" when every container runs, "partial" when some
// do, else the one state they share or "stopped"; "not created" without
// containers.
func sumState(running, total int, states map[string]int) string {
	switch {
	case total == 0:
		return "not created"
	case running == total:
		return "running"
	case running > 0:
		return "partial"
	case len(states) == 1:
		for st := range states {
			return st
		}
	}
	return "stopped"
}

// sumHealth is the worst health of the containers: unhealthy, starting,
// healthy; empty when none has a healthcheck.
func sumHealth(health map[string]int) string {
	for _, h := range []string{"unhealthy", "starting", "healthy"} {
		if health[h] > 0 {
			return h
		}
	}
	return ""
}
