package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

type statsOptions struct {
	engine.StatsOptions
	NoStream bool
	NoTrunc  bool
	Format   string
}

func init() { register(newStatsCommand) }

func newStatsCommand(g *Globals) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats [SERVICE...]",
		Short: "Show the services' resource usage, live: CPU, memory, network and block I/O, PIDs",
		Long: "Show the resource usage of the services' running containers, per container (Compose's\n" +
			"columns, then the CPU in percent of the machine and of the container's limit) and summed\n" +
			"per service. On a terminal the tables are redrawn in place every second, each service with\n" +
			"the last minute of its CPU and memory as sparklines; a service using 90% or more of its\n" +
			"memory limit is marked \"near limit\". --no-stream prints one reading; --format json one\n" +
			"object per container per reading, every figure as a number. With a gateway, a row per\n" +
			"route too: requests, requests/s, 5xx/s, p50 and p99 latency (JSON: one object per route).\n" +
			"Each container is read every --interval: 1s, one engine stream per container, as docker\n" +
			"stats; longer, one request per container each time. Every reading costs the engine CPU\n" +
			"(Docker 20.10 reading 30 containers every second: about 5% of a two-CPU machine), so a\n" +
			"longer interval watches a large project for less.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "table" && o.Format != "json" {
				return fmt.Errorf("--format %q: use table or json", o.Format)
			}
			if o.Interval < time.Second {
				return fmt.Errorf("--interval %s: use 1s or more", o.Interval)
			}
			ctx := progress.WithSink(cmd.Context(), warningsTo(g.Stderr))
			p, t, sr, err := openFor[engine.StatsReader](ctx, g, "stats", args)
			if err != nil {
				return err
			}
			defer t.Close()
			o.Services, o.Stream = args, !o.NoStream
			rw := newRouteWatch(p, t, args)
			if o.Format == "json" {
				err = statsJSONWithRoutes(ctx, g.Stdout, rw, o.Stream, func(ctx context.Context, f func(engine.Sample)) error {
					return sr.Stats(ctx, p.Name, o.StatsOptions, f)
				})
			} else {
				err = statsTables(ctx, g, sr, rw, p.Name, o)
			}
			if o.Stream && ctx.Err() != nil {
				return nil // Ctrl-C is how following ends
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.NoStream, "no-stream", false, "print one reading and return")
	f.BoolVarP(&o.All, "all", "a", false, "show stopped containers too")
	f.BoolVar(&o.NoTrunc, "no-trunc", false, "show whole container IDs")
	f.DurationVar(&o.Interval, "interval", time.Second, "how often each container is read while streaming (1s or more)")
	f.StringVar(&o.Format, "format", "table", "output format: table, or json (one object per container per reading)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// statsTables prints the tables: once with --no-stream; otherwise every
// second, redrawn in place on a terminal, appended elsewhere.
func statsTables(ctx context.Context, g *Globals, sr engine.StatsReader, rw *routeWatch, project string, o statsOptions) error {
	b := newStatsBoard(!o.NoTrunc)
	if !o.Stream {
		rw.read(ctx)
		if err := sr.Stats(ctx, project, o.StatsOptions, b.add); err != nil {
			return err
		}
		_, err := io.WriteString(g.Stdout, addRoutes(b.frame(time.Now(), false, 0), rw.read(ctx), false, 0).String())
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sr.Stats(ctx, project, o.StatsOptions, b.add) }()
	var screen *liveScreen
	if f, ok := g.Stdout.(*os.File); ok && isTerminal(g.Stdout) {
		screen = &liveScreen{w: g.Stdout, fd: int(f.Fd())}
		defer screen.close()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case now := <-tick.C:
			b.record()
			routes := rw.read(ctx)
			if screen != nil {
				screen.draw(addRoutes(b.frame(now, true, screen.width()), routes, true, screen.width()))
			} else {
				fmt.Fprintln(g.Stdout, addRoutes(b.frame(now, false, 0), routes, false, 0).String())
			}
		}
	}
}

// liveScreen redraws a frame in place: the cursor goes back up over the
// last frame, which is cleared, and the new one is cut to the terminal so
// that no line wraps or scrolls away (what scrolled off cannot be redrawn).
type liveScreen struct {
	w     io.Writer
	fd    int
	drawn int
}

func (s *liveScreen) width() int {
	w, _, err := term.GetSize(s.fd)
	if err != nil || w < 20 {
		return 160
	}
	return w
}

func (s *liveScreen) draw(f frame) {
	_, height, err := term.GetSize(s.fd)
	if err != nil || height < 5 {
		height = 50
	}
	var out string
	if s.drawn > 0 {
		out = fmt.Sprintf("\x1b[%dA", s.drawn)
	} else {
		out = "\x1b[?25l" // no cursor blinking over the tables
	}
	out += "\x1b[J"
	lines := f.lines
	if len(lines) > height-1 {
		lines = append(lines[:height-2:height-2], fmt.Sprintf("… %d more lines: a taller terminal shows them, or stack stats --no-stream", len(f.lines)-(height-2)))
	}
	for _, l := range lines {
		out += l + "\n"
	}
	s.drawn = len(lines)
	_, _ = io.WriteString(s.w, out)
}

func (s *liveScreen) close() { _, _ = io.WriteString(s.w, "\x1b[?25h") }

// sampleJSON is one line of `stack stats --format json`: every figure as a
// number, for a time-series database.
type sampleJSON struct {
	Time              time.Time `json:"time"`
	Service           string    `json:"service"`
	Container         string    `json:"container"`
	Node              string    `json:"node,omitempty"`
	ID                string    `json:"id"`
	CPUPercent        float64   `json:"cpu_percent"`
	CPUMachinePercent float64   `json:"cpu_machine_percent"`
	CPULimitPercent   float64   `json:"cpu_limit_percent"`
	CPUs              int       `json:"cpus"`
	CPULimit          float64   `json:"cpu_limit"`
	Memory            uint64    `json:"memory_bytes"`
	MemoryLimit       uint64    `json:"memory_limit_bytes"`
	MemoryPercent     float64   `json:"memory_percent"`
	MemoryLimited     bool      `json:"memory_limited"`
	NetRx             uint64    `json:"net_rx_bytes"`
	NetTx             uint64    `json:"net_tx_bytes"`
	BlockRead         uint64    `json:"block_read_bytes"`
	BlockWrite        uint64    `json:"block_write_bytes"`
	PIDs              uint64    `json:"pids"`
}

func jsonSample(w io.Writer) func(engine.Sample) {
	enc := json.NewEncoder(w)
	return func(s engine.Sample) {
		if s.Gone {
			return
		}
		_ = enc.Encode(sampleJSON{
			Time: s.Time, Service: s.Container.Service, Container: s.Container.Name, Node: s.Node, ID: s.Container.ID,
			CPUPercent: s.CPUPercent, CPUMachinePercent: s.CPUOfMachine(), CPULimitPercent: s.CPUOfLimit(),
			CPUs: s.CPUs, CPULimit: s.CPULimit,
			Memory: s.MemoryUsage, MemoryLimit: s.MemoryLimit, MemoryPercent: s.MemoryPercent(), MemoryLimited: s.MemoryLimited,
			NetRx: s.NetRx, NetTx: s.NetTx, BlockRead: s.BlockRead, BlockWrite: s.BlockWrite, PIDs: s.PIDs,
		})
	}
}
