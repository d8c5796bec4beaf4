package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
	"github.com/stack-deploy/stack/manifest"
)

// routeWatch reads the gateway's counters per route for `stack stats`: the
// figures of each reading are over the time since the previous one.
type routeWatch struct {
	reader   engine.GatewayReader
	project  string
	services []string
	prev     map[string]gateway.RouteCounters
	at       time.Time
}

// newRouteWatch is nil when the project has no gateway or its driver
// cannot read one.
func newRouteWatch(p *manifest.Project, t *deploy.Target, services []string) *routeWatch {
	gr, ok := t.Driver.(engine.GatewayReader)
	if !ok || p.Stack.Gateway == nil {
		return nil
	}
	return &routeWatch{reader: gr, project: p.Name, services: services}
}

// read takes a reading and returns each route's figures since the last
// one (no rates on the first). A gateway that cannot be read has no rows.
func (w *routeWatch) read(ctx context.Context) []gateway.RouteStats {
	if w == nil {
		return nil
	}
	now := time.Now()
	cur, err := w.reader.RouteMetrics(ctx, w.project)
	if err != nil {
		return nil
	}
	next := map[string]gateway.RouteCounters{}
	var out []gateway.RouteStats
	for _, c := range cur {
		if len(w.services) > 0 && !slices.Contains(w.services, c.Service) {
			continue
		}
		key := c.Service + " " + c.Route
		next[key] = c
		var prev *gateway.RouteCounters
		if p, ok := w.prev[key]; ok {
			prev = &p
		}
		out = append(out, gateway.Interval(prev, c, now.Sub(w.at)))
	}
	w.prev, w.at = next, now
	return out
}

// routeJSON is a route's line of `stack stats --format json`.
type routeJSON struct {
	Time              time.Time `json:"time"`
	Route             string    `json:"route"`
	Service           string    `json:"service"`
	Requests          float64   `json:"requests"`
	Errors5xx         float64   `json:"errors_5xx"`
	RequestsPerSecond float64   `json:"requests_per_second"`
	ErrorsPerSecond   float64   `json:"errors_5xx_per_second"`
	P50               float64   `json:"p50_ms"`
	P99               float64   `json:"p99_ms"`
}

func writeRoutesJSON(w io.Writer, rows []gateway.RouteStats) {
	enc := json.NewEncoder(w)
	now := time.Now()
	for _, r := range rows {
		_ = enc.Encode(routeJSON{Time: now, Route: r.Route, Service: r.Service, Requests: r.Requests, Errors5xx: r.Errors5xx,
			RequestsPerSecond: r.RequestsPerSecond, ErrorsPerSecond: r.ErrorsPerSecond, P50: ms(r.P50), P99: ms(r.P99)})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// statsJSONWithRoutes runs the containers' stats (stats) and adds the
// routes' lines: after the containers' reading with --no-stream (rates
// over the time it took), every second while streaming.
func statsJSONWithRoutes(ctx context.Context, w io.Writer, rw *routeWatch, stream bool, stats func(context.Context, func(engine.Sample)) error) error {
	if rw == nil {
		return stats(ctx, jsonSample(w))
	}
	out := &lockedWriter{w: w}
	if !stream {
		rw.read(ctx)
		if err := stats(ctx, jsonSample(out)); err != nil {
			return err
		}
		writeRoutesJSON(out, rw.read(ctx))
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		rw.read(ctx)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				writeRoutesJSON(out, rw.read(ctx))
			}
		}
	}()
	return stats(ctx, jsonSample(out))
}

// routeLines renders the routes' table below the services'.
func routeLines(rows []gateway.RouteStats, width int) []string {
	if len(rows) == 0 {
		return nil
	}
	t := table{header: []string{"ROUTE", "SERVICE", "REQUESTS", "REQ/S", "5XX/S", "P50", "P99"}}
	for _, r := range rows {
		t.add([]string{r.Route, r.Service, fmt.Sprintf("%.0f", r.Requests), fmt.Sprintf("%.1f", r.RequestsPerSecond),
			fmt.Sprintf("%.1f", r.ErrorsPerSecond), latency(r.P50), latency(r.P99)}, r.ErrorsPerSecond > 0)
	}
	return append([]string{""}, t.render(false, width)...)
}

func latency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", ms(d))
}

// addRoutes puts the routes' table into a frame, above a live frame's
// footer.
func addRoutes(f frame, rows []gateway.RouteStats, live bool, width int) frame {
	lines := routeLines(rows, width)
	if len(lines) == 0 {
		return f
	}
	if live && len(f.lines) >= 2 {
		at := len(f.lines) - 2 // the blank line and the footer
		f.lines = append(f.lines[:at:at], append(lines, f.lines[at:]...)...)
		return f
	}
	f.lines = append(f.lines, lines...)
	return f
}

// lockedWriter serialises the writes of the containers' and the routes'
// lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
