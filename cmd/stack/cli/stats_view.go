package cli

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"

	"github.com/stack-deploy/stack/engine"
)

const (
	// nearLimit is the share of its memory limit at which a service or
	// container is marked.
	nearLimit = 90.0
	// trendSeconds is how far back the sparklines go, trendWidth how many
	// characters they take (each the highest of its seconds).
	trendSeconds = 60
	trendWidth   = 20
)

// statsBoard holds the latest sample of each container and, per service,
// the last minute of its CPU and memory; add is called by the engine's
// streams, frame by the renderer.
type statsBoard struct {
	mu         sync.Mutex
	truncate   bool
	containers map[string]engine.Sample // by container ID
	cpu, mem   map[string][]float64     // by service, one value a second, oldest first
}

func newStatsBoard(truncate bool) *statsBoard {
	return &statsBoard{truncate: truncate, containers: map[string]engine.Sample{}, cpu: map[string][]float64{}, mem: map[string][]float64{}}
}

func (b *statsBoard) add(s engine.Sample) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.Gone {
		delete(b.containers, s.Container.ID)
		return
	}
	b.containers[s.Container.ID] = s
}

// record appends each service's current CPU and memory to its trend.
func (b *statsBoard) record() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.services() {
		b.cpu[s.name] = appendTrend(b.cpu[s.name], s.CPUPercent)
		b.mem[s.name] = appendTrend(b.mem[s.name], float64(s.MemoryUsage))
	}
}

func appendTrend(t []float64, v float64) []float64 {
	t = append(t, v)
	if len(t) > trendSeconds {
		t = t[len(t)-trendSeconds:]
	}
	return t
}

// serviceSample is the containers of one service summed: a Sample whose
// limits are the sum of theirs when every one is limited, the machine's
// otherwise.
type serviceSample struct {
	engine.Sample
	name       string
	containers int
}

// services sums the samples by service, sorted by name; b.mu is held.
func (b *statsBoard) services() []serviceSample {
	by := map[string]*serviceSample{}
	for _, c := range b.containers {
		s := by[c.Container.Service]
		if s == nil {
			s = &serviceSample{name: c.Container.Service, Sample: engine.Sample{MemoryLimited: true}}
			by[c.Container.Service] = s
		}
		s.containers++
		s.CPUPercent += c.CPUPercent
		s.CPUs = c.CPUs
		// One container without a CPU limit leaves the service none.
		if c.CPULimit > 0 && (s.containers == 1 || s.CPULimit > 0) {
			s.CPULimit += c.CPULimit
		} else {
			s.CPULimit = 0
		}
		s.MemoryUsage += c.MemoryUsage
		if c.MemoryLimited && s.MemoryLimited {
			s.MemoryLimit += c.MemoryLimit
		} else {
			s.MemoryLimited, s.MemoryLimit = false, c.MemoryLimit // the machine's
		}
		s.NetRx += c.NetRx
		s.NetTx += c.NetTx
		s.BlockRead += c.BlockRead
		s.BlockWrite += c.BlockWrite
		s.PIDs += c.PIDs
	}
	out := make([]serviceSample, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// frame is one rendering of the board: its lines, ready to print.
type frame struct{ lines []string }

func (f frame) String() string { return strings.Join(f.lines, "\n") + "\n" }

// frame renders the containers table (Compose's columns first, in its
// order), then the services table; live adds the trends and colour, cut
// to width.
func (b *statsBoard) frame(now time.Time, live bool, width int) frame {
	b.mu.Lock()
	defer b.mu.Unlock()
	samples := make([]engine.Sample, 0, len(b.containers))
	for _, s := range b.containers {
		samples = append(samples, s)
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].Container.Name < samples[j].Container.Name })

	ct := table{header: []string{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS", "CPU % OF MACHINE", "CPU % OF LIMIT"}}
	for _, s := range samples {
		id := s.Container.ID
		if b.truncate && len(id) > 12 {
			id = id[:12]
		}
		ct.add([]string{id, sampleName(s), percent(s.CPUPercent), memory(s), memoryPercent(s), io2(s.NetRx, s.NetTx), io2(s.BlockRead, s.BlockWrite),
			fmt.Sprint(s.PIDs), percent(s.CPUOfMachine()), percent(s.CPUOfLimit())}, near(s))
	}
	st := table{header: []string{"SERVICE", "CONTAINERS", "CPU %", "CPU % OF MACHINE", "CPU % OF LIMIT", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}}
	if live {
		st.header = append(st.header, "CPU (LAST MINUTE)", "MEMORY (LAST MINUTE)")
	}
	for _, s := range b.services() {
		row := []string{s.name, fmt.Sprint(s.containers), percent(s.CPUPercent), percent(s.CPUOfMachine()), percent(s.CPUOfLimit()),
			memory(s.Sample), memoryPercent(s.Sample), io2(s.NetRx, s.NetTx), io2(s.BlockRead, s.BlockWrite), fmt.Sprint(s.PIDs)}
		if live {
			row = append(row, sparkline(b.cpu[s.name]), sparkline(b.mem[s.name]))
		}
		st.add(row, near(s.Sample))
	}
	var lines []string
	lines = append(lines, ct.render(live, width)...)
	lines = append(lines, "")
	lines = append(lines, st.render(live, width)...)
	if live {
		lines = append(lines, "", cut(fmt.Sprintf("%s  every second; Ctrl-C ends; \"near limit\": memory at %.0f%% or more of the limit", now.Format("15:04:05"), nearLimit), width))
	}
	return frame{lines: lines}
}

func near(s engine.Sample) bool { return s.MemoryLimited && s.MemoryPercent() >= nearLimit }

func percent(v float64) string { return fmt.Sprintf("%.2f%%", v) }

func memory(s engine.Sample) string {
	return units.BytesSize(float64(s.MemoryUsage)) + " / " + units.BytesSize(float64(s.MemoryLimit))
}

func memoryPercent(s engine.Sample) string {
	if near(s) {
		return percent(s.MemoryPercent()) + " near limit"
	}
	return percent(s.MemoryPercent())
}

func io2(in, out uint64) string {
	return units.HumanSizeWithPrecision(float64(in), 3) + " / " + units.HumanSizeWithPrecision(float64(out), 3)
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws trend (one value a second, oldest first) over the last
// minute in trendWidth characters, each the highest of its seconds, scaled
// to the highest of the minute; seconds not seen yet are blank.
func sparkline(trend []float64) string {
	if len(trend) > trendSeconds {
		trend = trend[len(trend)-trendSeconds:]
	}
	per := trendSeconds / trendWidth
	top := 0.0
	for _, v := range trend {
		top = max(top, v)
	}
	out := make([]rune, trendWidth)
	for i := range out {
		// Character i covers the seconds [start, start+per) of the minute,
		// the last character the newest.
		start := len(trend) - trendSeconds + i*per
		peak, seen := 0.0, false
		for j := max(start, 0); j < start+per && j < len(trend); j++ {
			peak, seen = max(peak, trend[j]), true
		}
		switch {
		case !seen:
			out[i] = ' '
		case top <= 0:
			out[i] = sparks[0]
		default:
			out[i] = sparks[min(int(peak/top*float64(len(sparks)-1)+0.5), len(sparks)-1)]
		}
	}
	return string(out)
}

// table aligns its cells in columns three spaces apart. Its own alignment,
// not tabwriter's: a marked row is coloured after padding, so the escape
// codes do not count as width.
type table struct {
	header []string
	rows   [][]string
	marked []bool
}

func (t *table) add(row []string, mark bool) {
	t.rows = append(t.rows, row)
	t.marked = append(t.marked, mark)
}

func (t *table) render(colour bool, width int) []string {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(r []string) string {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+3))
			}
		}
		return cut(b.String(), width)
	}
	out := []string{line(t.header)}
	for i, r := range t.rows {
		l := line(r)
		if colour && t.marked[i] {
			l = "\x1b[31m" + l + "\x1b[0m"
		}
		out = append(out, l)
	}
	return out
}

// cut shortens s to width runes (0: no bound) so that a line never wraps.
func cut(s string, width int) string {
	if r := []rune(s); width > 0 && len(r) > width-1 {
		return string(r[:width-1])
	}
	return s
}
