package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// Sources are the capabilities of a driver the page is fed from; a nil one
// leaves its part of the page empty, with a note saying why.
type Sources struct {
	Lister  engine.Lister
	Stats   engine.StatsReader
	Events  engine.EventWatcher
	Gateway engine.GatewayReader
	Logs    engine.Logger
}

// SourcesOf asks d for each capability (engine.Capability) and returns the
// notes of those it lacks ("stack stats: unsupported by the ... orchestrator").
func SourcesOf(d engine.Driver) (Sources, []string) {
	var src Sources
	var notes []string
	note := func(err error) {
		if err != nil {
			notes = append(notes, err.Error())
		}
	}
	var err error
	src.Lister, err = engine.Capability[engine.Lister](d, "ps")
	note(err)
	src.Stats, err = engine.Capability[engine.StatsReader](d, "stats")
	note(err)
	src.Events, err = engine.Capability[engine.EventWatcher](d, "events")
	note(err)
	src.Logs, err = engine.Capability[engine.Logger](d, "logs")
	note(err)
	src.Gateway, _ = d.(engine.GatewayReader) // no gateway: no routes, nothing to say
	return src, notes
}

// Server serves one project's dashboard.
type Server struct {
	project string
	src     Sources
	token   string
	every   time.Duration
	// statsEvery is how often each container's usage is read, listEvery
	// how often the services are listed while events say when they change.
	statsEvery time.Duration
	listEvery  time.Duration
	board      *board
	releases   ReleasesFunc
	changed    chan struct{} // an event came: list the services again
	started    chan struct{} // a container started: follow the logs again

	mu       sync.Mutex
	clients  map[chan message]bool
	backlog  map[string][]message // the last events and log lines, for a page that opens later
	lastLine time.Time
}

// Option configures New.
type Option func(*Server)

// WithServices names the project's services in the manifest's order, so
// that those without containers are shown too. Default: those the engine
// lists.
func WithServices(names []string) Option {
	return func(s *Server) { s.board.declared = names }
}

// WithNotes adds lines shown at the top of the page (what cannot be shown).
func WithNotes(notes ...string) Option {
	return func(s *Server) { s.board.notes = append(s.board.notes, notes...) }
}

// WithInterval sets how often the services and routes are read again.
// Default: 2s (and soon after every event).
func WithInterval(d time.Duration) Option { return func(s *Server) { s.every = d } }

// WithStatsInterval sets how often each container's CPU and memory are
// read, where the engine lets the reader choose (Docker API 1.41 and
// later; an older engine streams a reading a second). Default: 5s. Each
// reading costs the engine a few milliseconds of CPU per container: a
// reading a second of 30 containers is some 4% of a two-CPU machine.
func WithStatsInterval(d time.Duration) Option { return func(s *Server) { s.statsEvery = d } }

// WithListInterval sets how often the services are listed while the
// engine's events say when they change (they are listed soon after each
// event); without events, the services are listed every WithInterval.
// Default: 30s, in case an event was missed while the events reconnected.
func WithListInterval(d time.Duration) Option { return func(s *Server) { s.listEvery = d } }

// New returns the dashboard of project, fed from src, with a new random
// token.
func New(project string, src Sources, opts ...Option) (*Server, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("making the dashboard's token: %w", err)
	}
	s := &Server{project: project, src: src, token: hex.EncodeToString(b), every: 2 * time.Second,
		statsEvery: 5 * time.Second, listEvery: 30 * time.Second,
		board: newBoard(project, nil), changed: make(chan struct{}, 1), started: make(chan struct{}, 1),
		clients: map[chan message]bool{}, backlog: map[string][]message{}}
	for _, o := range opts {
		o(s)
	}
	if s.every <= 0 || s.statsEvery <= 0 || s.listEvery <= 0 {
		return nil, errors.New("dashboard: the intervals must be positive")
	}
	return s, nil
}

// Token is what every request must carry (?token=, then a cookie).
func (s *Server) Token() string { return s.token }

// Serve follows the project and answers on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A driver's warnings (a Swarm node whose engine cannot be reached)
	// are shown on the page.
	ctx = progress.WithSink(ctx, progress.SinkFunc(func(e progress.Event) {
		if e.Status == progress.Warning {
			s.publish("notice", strings.Replace(e.Resource, ":", " ", 1)+": "+e.Message)
		}
	}))
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	if s.src.Lister != nil {
		run(s.pollPs)
	}
	if s.src.Stats != nil {
		run(func(ctx context.Context) { s.follow(ctx, "stats", s.followStats) })
	}
	if s.src.Events != nil {
		run(func(ctx context.Context) { s.follow(ctx, "events", s.followEvents) })
	}
	if s.src.Logs != nil {
		run(func(ctx context.Context) { s.follow(ctx, "logs", s.followLogs) })
	}
	if s.src.Gateway != nil {
		run(s.pollRoutes)
	}
	if s.releases != nil {
		run(s.pollReleases)
	}
	run(s.tick)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		s.closeClients()
		_ = srv.Close()
	}()
	err := srv.Serve(ln)
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// tick records the history and sends the page the state every second.
func (s *Server) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.board.record()
			if s.listening() {
				s.publish("state", s.board.snapshot(now))
			}
		}
	}
}
