package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

func TestSparklineShowsTheLastMinuteScaledToItsPeak(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trend []float64
		want  string
	}{
		{"nothing yet", nil, strings.Repeat(" ", trendWidth)},
		{"three seconds", []float64{1, 2, 4}, strings.Repeat(" ", trendWidth-1) + "█"},
		{"flat zero", make([]float64, 6), strings.Repeat(" ", trendWidth-2) + "▁▁"},
		// Each character the peak of its three seconds: 3, 6, ... 60 of 60.
		{"a minute rising", ramp(trendSeconds), "▁▂▂▂▃▃▃▄▄▅▅▅▆▆▆▇▇▇██"},
		{"older than a minute drops out", append([]float64{1000}, ramp(trendSeconds)...), "▁▂▂▂▃▃▃▄▄▅▅▅▆▆▆▇▇▇██"},
		{"a spike", append(make([]float64, 57), 9, 0, 0), strings.Repeat("▁", trendWidth-1) + "█"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sparkline(tc.trend); got != tc.want || len([]rune(got)) != trendWidth {
				t.Errorf("sparkline(%v) = %q, want %q", tc.trend, got, tc.want)
			}
		})
	}
}

// columns splits a table line at its column gaps (two spaces or more).
func columns(line string) []string {
	if strings.TrimSpace(line) == "" {
		return nil
	}
	return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
}

func ramp(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestStatsBoardSumsServicesAndMarksNearLimit(t *testing.T) {
	b := newStatsBoard(true)
	mib := uint64(1 << 20)
	c := func(id, service string, number int) engine.Container {
		return engine.Container{ID: id + strings.Repeat("0", 20), Name: "shop-" + service + "-" + id, Service: service, Number: number}
	}
	b.add(engine.Sample{Container: c("1", "web", 1), CPUPercent: 50, CPUs: 4, CPULimit: 1, MemoryUsage: 95 * mib, MemoryLimit: 100 * mib, MemoryLimited: true, PIDs: 3, NetRx: 1000})
	b.add(engine.Sample{Container: c("2", "web", 2), CPUPercent: 30, CPUs: 4, CPULimit: 1, MemoryUsage: 90 * mib, MemoryLimit: 100 * mib, MemoryLimited: true, PIDs: 2, NetRx: 500})
	b.add(engine.Sample{Container: c("3", "db", 1), CPUPercent: 10, CPUs: 4, MemoryUsage: 10 * mib, MemoryLimit: 1000 * mib, PIDs: 1})
	b.add(engine.Sample{Container: c("4", "db", 2), Gone: true}) // never seen: nothing
	b.mu.Lock()
	services := b.services()
	b.mu.Unlock()
	if len(services) != 2 || services[0].name != "db" || services[1].name != "web" {
		t.Fatalf("services %+v", services)
	}
	web := services[1]
	// 80% of one CPU on two one-CPU limits: 40% of the limit, 20% of the
	// four-CPU machine; 185 of 200 MiB: near the limit.
	if web.containers != 2 || web.CPUPercent != 80 || web.CPUOfLimit() != 40 || web.CPUOfMachine() != 20 ||
		web.MemoryUsage != 185*mib || web.MemoryLimit != 200*mib || !near(web.Sample) || web.PIDs != 5 || web.NetRx != 1500 {
		t.Errorf("web %+v", web)
	}
	if db := services[0]; near(db.Sample) || db.CPULimit != 0 || db.CPUOfLimit() != db.CPUOfMachine() {
		t.Errorf("db %+v: no limit, so not near one, its CPU of limit that of the machine", db)
	}
	b.record()
	f := b.frame(time.Now(), false, 0)
	want := [][]string{
		{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS", "CPU % OF MACHINE", "CPU % OF LIMIT"},
		{"300000000000", "shop-db-3", "10.00%", "10MiB / 1000MiB", "1.00%", "0B / 0B", "0B / 0B", "1", "2.50%", "2.50%"},
		{"100000000000", "shop-web-1", "50.00%", "95MiB / 100MiB", "95.00% near limit", "1kB / 0B", "0B / 0B", "3", "12.50%", "50.00%"},
		{"200000000000", "shop-web-2", "30.00%", "90MiB / 100MiB", "90.00% near limit", "500B / 0B", "0B / 0B", "2", "7.50%", "30.00%"},
		nil,
		{"SERVICE", "CONTAINERS", "CPU %", "CPU % OF MACHINE", "CPU % OF LIMIT", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"},
		{"db", "1", "10.00%", "2.50%", "2.50%", "10MiB / 1000MiB", "1.00%", "0B / 0B", "0B / 0B", "1"},
		{"web", "2", "80.00%", "20.00%", "40.00%", "185MiB / 200MiB", "92.50% near limit", "1.5kB / 0B", "0B / 0B", "5"},
	}
	if len(f.lines) != len(want) {
		t.Fatalf("frame of %d lines, want %d:\n%s", len(f.lines), len(want), f)
	}
	for i, l := range f.lines {
		if got := columns(l); strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d: %q, want %q", i, got, want[i])
		}
	}
	if live := b.frame(time.Now(), true, 300).String(); !strings.Contains(live, "CPU (LAST MINUTE)") || !strings.Contains(live, "\x1b[31mweb  ") {
		t.Errorf("live frame without trends or the near-limit colour:\n%s", live)
	}
	for _, l := range b.frame(time.Now(), true, 80).lines {
		if n := len([]rune(strings.NewReplacer("\x1b[31m", "", "\x1b[0m", "").Replace(l))); n >= 80 {
			t.Errorf("line of %d columns on an 80-column terminal: %q", n, l)
		}
	}
	b.add(engine.Sample{Container: c("2", "web", 2), Gone: true})
	if f := b.frame(time.Now(), false, 0).String(); strings.Contains(f, "shop-web-2") {
		t.Errorf("a container gone is still shown:\n%s", f)
	}
}

func TestLogPrinterAlignsPrefixesAndSplitsStreams(t *testing.T) {
	var out, errs bytes.Buffer
	p := &logPrinter{stdout: &out, stderr: &errs, prefix: true, timestamps: true, colours: map[string]string{}}
	at := time.Date(2026, 12, 1, 8, 0, 0, 500, time.UTC)
	p.line(engine.LogLine{Container: engine.Container{Service: "db", Number: 1}, Stream: "stdout", Time: at, Text: "ready"})
	p.line(engine.LogLine{Container: engine.Container{Service: "web", Number: 12}, Stream: "stderr", Time: at, Text: "oops"})
	p.line(engine.LogLine{Container: engine.Container{Service: "db", Number: 1}, Stream: "stdout", Time: at, Text: "again"})
	// Compose's prefix: the name padded to the longest seen, plus one.
	wantOut := "db-1  | 2026-12-01T08:00:00.000000500Z ready\ndb-1    | 2026-12-01T08:00:00.000000500Z again\n"
	if out.String() != wantOut || errs.String() != "web-12  | 2026-12-01T08:00:00.000000500Z oops\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errs.String())
	}
	out.Reset()
	jsonLogLine(&out)(engine.LogLine{Container: engine.Container{Name: "shop-db-1", Service: "db"}, Stream: "stdout", Time: at, Text: "ready"})
	if want := `{"service":"db","container":"shop-db-1","stream":"stdout","time":"2026-12-01T08:00:00.0000005Z","line":"ready"}` + "\n"; out.String() != want {
		t.Errorf("json %q, want %q", out.String(), want)
	}
}

func TestEventLineIsComposes(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 12, 1, 8, 28, 47, 304372000, time.Local)
	eventLine(&out)(engine.Event{Time: at, ID: "bf59", Action: "die", Attributes: map[string]string{"name": "shop-web-1", "exitCode": "3", "image": "web"}})
	if want := "2026-12-01 08:28:47.304372 container die bf59 (exitCode=3, image=web, name=shop-web-1)\n"; out.String() != want {
		t.Errorf("line %q, want %q", out.String(), want)
	}
}

func TestPrintTopPutsCMDLast(t *testing.T) {
	var out bytes.Buffer
	g := &Globals{Stdout: &out}
	err := printTop(g, []procTable{
		{container: engine.Container{Service: "db", Number: 1}, titles: []string{"UID", "PID", "CMD", "C"}, procs: [][]string{{"root", "10", "redis-server", "0"}}},
		{container: engine.Container{Service: "web", Number: 2}, titles: []string{"UID", "PID", "CMD"}, procs: [][]string{{"app", "20", "/kvstore"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "SERVICE  #   UID   PID  C   CMD\ndb       1   root  10   0   redis-server\nweb      2   app   20   -   /kvstore\n"
	if out.String() != want {
		t.Errorf("top:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := printTop(g, nil); err != nil || out.Len() != 0 {
		t.Errorf("no process: %q, %v; want nothing, as Compose", out.String(), err)
	}
}

func TestSelectionPicks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web: {image: web}\n  db: {image: db}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "shop", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	row := func(name, service string, number int, state string, oneOff bool) engine.Status {
		return engine.Status{Container: engine.Container{Name: name, Service: service, Number: number, State: state, OneOff: oneOff}}
	}
	rows := []engine.Status{
		row("db-1", "db", 1, "exited", false), row("web-1", "web", 1, "running", false), row("web-2", "web", 2, "paused", false),
		row("web-run", "web", 1, "running", true), row("old-1", "gone", 1, "running", false),
	}
	names := func(cs []engine.Container) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name string
		s    selection
		want string
	}{
		{"the manifest's services", selection{}, "db-1 web-1 web-2"},
		{"with orphans and one-offs", selection{Orphans: true, OneOffs: true}, "db-1 web-1 web-2 web-run old-1"},
		{"one service, running", selection{Services: []string{"web"}, Keep: running}, "web-1 web-2"},
		{"one replica", selection{Services: []string{"web"}, Index: 2, OneOffs: true}, "web-2"},
	} {
		if got := names(tc.s.pick(p, rows)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := serviceContainer(p, rows, "db", 0, true); err == nil || !strings.Contains(err.Error(), `service "db" has no running container`) {
		t.Errorf("db runs nothing: error %v", err)
	}
}

func TestCpPaths(t *testing.T) {
	for _, tc := range []struct {
		src, dst string
		want     string // service, to-container, container path, local path; or the error
	}{
		{"web:/data", "./out", "web false /data ./out"},
		{"-", "web:/data", "web true /data -"},
		{"./a:b", "web:/x", "web true /x ./a:b"},
		{"/abs:b", "web:/x", "web true /x /abs:b"},
		{"web:/a", "db:/b", "between two containers"},
		{"a", "b", "name the service"},
	} {
		var o cpOptions
		service, err := o.paths(tc.src, tc.dst)
		got := strings.Join([]string{service, map[bool]string{true: "true", false: "false"}[o.ToContainer], o.ContainerPath, o.LocalPath}, " ")
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("cp %s %s: %q, want %q", tc.src, tc.dst, got, tc.want)
		}
	}
}

func TestProjectStatusIsComposes(t *testing.T) {
	if got := projectStatus(map[string]int{"running": 2, "exited": 1}); got != "exited(1), running(2)" {
		t.Errorf("status %q", got)
	}
}
