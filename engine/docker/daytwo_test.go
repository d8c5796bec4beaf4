package docker

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
)

// dayTwoClient is a fake engine for the day-two verbs: fixed containers,
// logs, stats streams and events, recording the writes; it embeds Client,
// so a call it does not implement panics.
type dayTwoClient struct {
	Client
	host       string
	mu         sync.Mutex
	calls      []string
	containers []container.Summary
	inspect    map[string]container.InspectResponse
	logs       map[string][]byte // a multiplexed stream, by container ID
	stats      map[string][]container.StatsResponse
	// hold keeps a container's stats stream open after its readings,
	// until the request is cancelled, as the engine's is while it runs.
	hold      map[string]bool
	events    chan events.Message
	eventErrs chan error // nil: the stream ends only with its context
	// version is the API version negotiated ("": 1.41, which reads stats
	// once on demand); oneShots how many one-shot reads each container had.
	version  string
	oneShots map[string]int
	inspects map[string]int
	volumes  []*volume.Volume
}

func (f *dayTwoClient) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *dayTwoClient) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return f.containers, nil
}

func (f *dayTwoClient) ClientVersion() string {
	if f.version == "" {
		return "1.41"
	}
	return f.version
}

func (f *dayTwoClient) NegotiateAPIVersion(context.Context) {}

// DaemonHost is f.host, by default an engine elsewhere: the driver reads
// its containers' usage through it, not from this machine's cgroups.
func (f *dayTwoClient) DaemonHost() string {
	if f.host == "" {
		return "tcp://engine.test:2376"
	}
	return f.host
}

// ContainerStatsOneShot gives a container's readings in turn, the last
// one again once they are used up.
func (f *dayTwoClient) ContainerStatsOneShot(_ context.Context, id string) (container.StatsResponseReader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oneShots == nil {
		f.oneShots = map[string]int{}
	}
	rs := f.stats[id]
	if len(rs) == 0 {
		return container.StatsResponseReader{}, errors.New("no such container: " + id)
	}
	v := rs[min(f.oneShots[id], len(rs)-1)]
	f.oneShots[id]++
	data, _ := json.Marshal(v)
	return container.StatsResponseReader{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (f *dayTwoClient) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	f.mu.Lock()
	if f.inspects == nil {
		f.inspects = map[string]int{}
	}
	f.inspects[id]++
	f.mu.Unlock()
	if ins, ok := f.inspect[id]; ok {
		return ins, nil
	}
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, HostConfig: &container.HostConfig{}}, Config: &container.Config{}}, nil
}

func (f *dayTwoClient) ContainerLogs(_ context.Context, id string, _ container.LogsOptions) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(f.logs[id])), nil
}

func (f *dayTwoClient) ContainerStats(ctx context.Context, id string, _ bool) (container.StatsResponseReader, error) {
	f.record("ContainerStats " + id)
	r, w := io.Pipe()
	go func() {
		for _, s := range f.stats[id] {
			_ = json.NewEncoder(w).Encode(s)
		}
		if f.hold[id] {
			<-ctx.Done()
		}
		w.Close()
	}()
	return container.StatsResponseReader{Body: r}, nil
}

func (f *dayTwoClient) Events(ctx context.Context, _ events.ListOptions) (<-chan events.Message, <-chan error) {
	if f.eventErrs != nil {
		return f.events, f.eventErrs
	}
	errs := make(chan error, 1)
	go func() { <-ctx.Done(); errs <- ctx.Err() }()
	return f.events, errs
}

func (f *dayTwoClient) VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error) {
	return volume.ListResponse{Volumes: f.volumes}, nil
}

func (f *dayTwoClient) VolumeRemove(_ context.Context, name string, _ bool) error {
	f.record("VolumeRemove " + name)
	return nil
}

func (f *dayTwoClient) VolumeCreate(_ context.Context, o volume.CreateOptions) (volume.Volume, error) {
	f.record("VolumeCreate " + o.Name)
	v := volume.Volume{Name: o.Name, Labels: o.Labels}
	f.volumes = append(f.volumes, &v)
	return v, nil
}

// multiplexed builds the engine's log stream: each line on its stream, led
// by its time.
func multiplexed(t *testing.T, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	out, errw := stdcopy.NewStdWriter(&b, stdcopy.Stdout), stdcopy.NewStdWriter(&b, stdcopy.Stderr)
	for _, l := range lines {
		w := out
		if text, ok := strings.CutPrefix(l, "err:"); ok {
			w, l = errw, text
		}
		if _, err := io.WriteString(w, l); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestSplitLogsReadsStreamTimeAndText(t *testing.T) {
	c := engine.Container{Name: "shop-web-1", Service: "web", Number: 1}
	for _, tc := range []struct {
		name   string
		stream []byte
		tty    bool
		want   []string
	}{
		{
			name: "multiplexed",
			stream: multiplexed(t, "2026-12-01T08:00:00.000000001Z hello\n", "err:2026-12-01T08:00:01.5Z oops\n",
				"2026-12-01T08:00:02Z two words\n2026-12-01T08:00:03Z \n", "2026-12-01T08:00:04Z no newline"),
			want: []string{
				"stdout 08:00:00.000000001 hello", "stderr 08:00:01.5 oops", "stdout 08:00:02 two words",
				"stdout 08:00:03 ", "stdout 08:00:04 no newline",
			},
		},
		{
			name:   "terminal",
			stream: []byte("2026-12-01T08:00:00Z one\r\n2026-12-01T08:00:01Z two\r\n"),
			tty:    true,
			want:   []string{"stdout 08:00:00 one", "stdout 08:00:01 two"},
		},
		{
			name:   "continuation without a time",
			stream: multiplexed(t, "not-a-time rest\n"),
			want:   []string{"stdout 00:00:00 not-a-time rest"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := splitLogs(c, bytes.NewReader(tc.stream), tc.tty, func(l engine.LogLine) {
				if l.Container.Name != c.Name {
					t.Errorf("line of %+v, want %+v", l.Container, c)
				}
				got = append(got, l.Stream+" "+l.Time.UTC().Format("15:04:05.999999999")+" "+l.Text)
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSampleOfComputesAsDockerStats(t *testing.T) {
	c := engine.Container{ID: "c1", Name: "shop-web-1", Service: "web", Number: 1}
	v := container.StatsResponse{
		Read:        time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		CPUStats:    container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 3_000_000}, SystemUsage: 20_000_000, OnlineCPUs: 4},
		PreCPUStats: container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 1_000_000}, SystemUsage: 10_000_000},
		MemoryStats: container.MemoryStats{Usage: 100 << 20, Limit: 200 << 20, Stats: map[string]uint64{"total_inactive_file": 10 << 20}},
		Networks:    map[string]container.NetworkStats{"eth0": {RxBytes: 10, TxBytes: 20}, "eth1": {RxBytes: 1, TxBytes: 2}},
		BlkioStats:  container.BlkioStats{IoServiceBytesRecursive: []container.BlkioStatEntry{{Op: "Read", Value: 5}, {Op: "Write", Value: 7}, {Op: "Total", Value: 12}, {Op: "read", Value: 1}}},
		PidsStats:   container.PidsStats{Current: 9},
	}
	s := sampleOf(c, limits{cpus: 0.5, memory: true}, readingOf(t, v))
	// 2e6 of 10e6 system nanoseconds on 4 CPUs: 80% of one CPU, 20% of the
	// machine, 160% of half a CPU.
	if s.CPUPercent != 80 || s.CPUOfMachine() != 20 || s.CPUOfLimit() != 160 {
		t.Errorf("CPU %v%%, of machine %v%%, of limit %v%%; want 80, 20, 160", s.CPUPercent, s.CPUOfMachine(), s.CPUOfLimit())
	}
	if s.MemoryUsage != 90<<20 || s.MemoryLimit != 200<<20 || !s.MemoryLimited || s.MemoryPercent() != 45 {
		t.Errorf("memory %d / %d (limited %v) %v%%; want 90 MiB without the inactive cache, 200 MiB, 45%%", s.MemoryUsage, s.MemoryLimit, s.MemoryLimited, s.MemoryPercent())
	}
	if s.NetRx != 11 || s.NetTx != 22 || s.BlockRead != 6 || s.BlockWrite != 7 || s.PIDs != 9 || !s.Time.Equal(v.Read) || s.Container.ID != c.ID {
		t.Errorf("sample %+v", s)
	}

	// The first reading of a stream has nothing to compare with; cgroup v2
	// names the cache inactive_file.
	v.PreCPUStats = container.CPUStats{}
	v.MemoryStats.Stats = map[string]uint64{"inactive_file": 50 << 20}
	s = sampleOf(c, limits{}, readingOf(t, v))
	if s.CPUPercent != 0 || s.CPUOfLimit() != 0 || s.MemoryUsage != 50<<20 || s.MemoryLimited {
		t.Errorf("first reading %+v: want no CPU figure and 50 MiB, unlimited", s)
	}
}

// nextOf is what the next sample was (got), within 10s.
func nextOf(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case g := <-got:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("no sample in 10s")
		return ""
	}
}

// readingOf is the engine's response v as stack decodes it: through JSON,
// which checks that reading's fields are named as the engine's.
func readingOf(t *testing.T, v container.StatsResponse) reading {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var r reading
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatsStreamFollowsContainersThatStartAndStop(t *testing.T) {
	labels := func(svc string) map[string]string {
		return map[string]string{engine.LabelProject: "shop", engine.LabelService: svc, engine.LabelContainerNumber: "1", engine.LabelOneoff: "false"}
	}
	reading := container.StatsResponse{MemoryStats: container.MemoryStats{Usage: 1 << 20}}
	f := &dayTwoClient{
		containers: []container.Summary{{ID: "web1", Names: []string{"/shop-web-1"}, State: "running", Labels: labels("web")}},
		stats:      map[string][]container.StatsResponse{"web1": {reading, reading}, "db1": {reading}},
		events:     make(chan events.Message, 2),
		version:    "1.40", // streams: no one-shot reads before API 1.41
	}
	// db starts while web is followed; one-offs are left out.
	f.events <- events.Message{Action: events.ActionStart, Actor: events.Actor{ID: "run1", Attributes: map[string]string{engine.LabelService: "db", engine.LabelOneoff: "true"}}}
	f.events <- events.Message{Action: events.ActionStart, Actor: events.Actor{ID: "db1", Attributes: map[string]string{"name": "shop-db-1", engine.LabelService: "db", engine.LabelContainerNumber: "1"}}}
	d, _ := New(WithClient(f))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := map[string][]string{}
	done := make(chan error, 1)
	var mu sync.Mutex
	go func() {
		done <- d.Stats(ctx, "shop", engine.StatsOptions{Stream: true}, func(s engine.Sample) {
			mu.Lock()
			defer mu.Unlock()
			what := "sample"
			if s.Gone {
				what = "gone"
			}
			got[s.Container.Name] = append(got[s.Container.Name], what)
			if len(got["shop-web-1"]) == 3 && len(got["shop-db-1"]) == 2 {
				cancel()
			}
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("stats did not follow both containers to their end: %v", got)
	}
	// Each stream ends after its readings (the fake's), which is the end of
	// that container's samples.
	want := map[string]string{"shop-web-1": "sample sample gone", "shop-db-1": "sample gone"}
	for name, w := range want {
		if g := strings.Join(got[name], " "); g != w {
			t.Errorf("%s: %s, want %s", name, g, w)
		}
	}
	if len(got) != 2 {
		t.Errorf("samples of %v, want only web and db (not the one-off)", got)
	}
}

func TestStatsStreamEndsAContainersSamplesAtItsDeath(t *testing.T) {
	f := &dayTwoClient{
		containers: []container.Summary{{ID: "web1", Names: []string{"/shop-web-1"}, State: "running", Labels: map[string]string{engine.LabelService: "web"}}},
		stats:      map[string][]container.StatsResponse{"web1": {{}}},
		hold:       map[string]bool{"web1": true},
		events:     make(chan events.Message),
		version:    "1.40",
		eventErrs:  make(chan error, 1),
	}
	d, _ := New(WithClient(f))
	got := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- d.Stats(t.Context(), "shop", engine.StatsOptions{Stream: true}, func(s engine.Sample) {
			if s.Gone {
				got <- "gone"
			} else {
				got <- "sample"
			}
		})
	}()
	next := func() string { t.Helper(); return nextOf(t, got) }
	actor := events.Actor{ID: "web1", Attributes: map[string]string{"name": "shop-web-1", engine.LabelService: "web"}}
	// A restart: the stream open while it ran ends with its death, a new
	// one follows it when it starts again.
	var seq []string
	seq = append(seq, next())
	f.events <- events.Message{Action: events.ActionDie, Actor: actor}
	seq = append(seq, next())
	f.events <- events.Message{Action: events.ActionStart, Actor: actor}
	seq = append(seq, next())
	if strings.Join(seq, " ") != "sample gone sample" {
		t.Errorf("samples %v, want sample gone sample", seq)
	}
	// The event stream failing ends Stats, every stream closed.
	f.eventErrs <- errors.New("connection reset")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("error %v, want the event stream's", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stats did not return after its event stream failed")
	}
	if n := strings.Count(strings.Join(f.calls, " "), "ContainerStats web1"); n != 2 {
		t.Errorf("%d streams opened, want 2 (one per run): %v", n, f.calls)
	}
}

func TestEventOfLeavesStackLabelsOut(t *testing.T) {
	m := events.Message{
		Action:   "die",
		TimeNano: time.Date(2026, 12, 1, 8, 0, 0, 5, time.UTC).UnixNano(),
		Actor: events.Actor{ID: "c1", Attributes: map[string]string{
			"name": "shop-web-1", "exitCode": "3", "image": "web:1", "team": "a",
			engine.LabelProject: "shop", engine.LabelService: "web", engine.LabelConfigHash: "h",
		}},
	}
	e := eventOf(eventContainer(m), m)
	want := map[string]string{"name": "shop-web-1", "exitCode": "3", "image": "web:1", "team": "a"}
	if e.Service != "web" || e.Container != "shop-web-1" || e.ID != "c1" || e.Action != "die" || e.Time.Nanosecond() != 5 || len(e.Attributes) != len(want) {
		t.Fatalf("event %+v", e)
	}
	for k, v := range want {
		if e.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, e.Attributes[k], v)
		}
	}
}

func TestPreviousKeepsTheLastLinesOfARemovedContainer(t *testing.T) {
	f := &dayTwoClient{
		inspect: map[string]container.InspectResponse{
			"old": {
				ContainerJSONBase: &container.ContainerJSONBase{ID: "old", Name: "/shop-web-1", State: &container.State{ExitCode: 3, StartedAt: "2026-12-01T08:00:00Z", FinishedAt: "2026-12-01T08:00:09Z"}},
				Config:            &container.Config{Labels: map[string]string{engine.LabelProject: "shop", engine.LabelService: "web", engine.LabelContainerNumber: "1"}},
			},
			"created": {
				ContainerJSONBase: &container.ContainerJSONBase{ID: "created", Name: "/shop-web-1", State: &container.State{StartedAt: "0001-01-01T00:00:00Z"}},
				Config:            &container.Config{Labels: map[string]string{engine.LabelProject: "shop", engine.LabelService: "web", engine.LabelContainerNumber: "1"}},
			},
			"run": {
				ContainerJSONBase: &container.ContainerJSONBase{ID: "run", Name: "/shop-web-run-1"},
				Config:            &container.Config{Labels: map[string]string{engine.LabelService: "web", engine.LabelOneoff: "true"}},
			},
		},
		logs: map[string][]byte{"old": multiplexed(t,
			"2026-12-01T08:00:01Z starting\n", "err:2026-12-01T08:00:05Z panic: no redis\n", "2026-12-01T08:00:08Z bye\n")},
	}
	// A one-off keeps nothing, nor does a container created and never
	// started: it would hide what its replica's last container left.
	for _, ref := range []string{"run", "created"} {
		if err := savePrevious(t.Context(), f, "shop", ref); err != nil || len(f.calls) != 0 {
			t.Fatalf("%s: err %v, calls %v; want nothing kept", ref, err, f.calls)
		}
	}
	for range 2 { // the second replaces what the first kept
		if err := savePrevious(t.Context(), f, "shop", "old"); err != nil {
			t.Fatal(err)
		}
	}
	want := "VolumeRemove shop-web-1.previous-logs VolumeCreate shop-web-1.previous-logs"
	if got := strings.Join(f.calls, " "); got != want+" "+want {
		t.Errorf("calls %q, want %q twice", got, want)
	}
	f.volumes = f.volumes[1:] // the fake does not remove
	d, _ := New(WithClient(f))
	read := func(o engine.LogsOptions) (string, error) {
		var b strings.Builder
		err := d.Logs(t.Context(), "shop", o, func(l engine.LogLine) {
			b.WriteString(l.Container.Name + " " + l.Container.State + " " + l.Stream + " " + l.Text + "\n")
		})
		return b.String(), err
	}
	for _, tc := range []struct {
		name string
		o    engine.LogsOptions
		want string
	}{
		{"all", engine.LogsOptions{Previous: true, Services: []string{"web"}},
			"shop-web-1 removed stdout starting\nshop-web-1 removed stderr panic: no redis\nshop-web-1 removed stdout bye\n"},
		{"tail", engine.LogsOptions{Previous: true, Tail: "1"}, "shop-web-1 removed stdout bye\n"},
		{"since and until", engine.LogsOptions{Previous: true, Since: "2026-12-01T08:00:02Z", Until: "2026-12-01T08:00:06Z"},
			"shop-web-1 removed stderr panic: no redis\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := read(tc.o)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := read(engine.LogsOptions{Previous: true, Services: []string{"db"}}); !errors.Is(err, engine.ErrNoPrevious) || !strings.Contains(err.Error(), `service "db"`) {
		t.Errorf("db kept nothing: error %v, want ErrNoPrevious naming it", err)
	}
}

func TestEncodePreviousFitsTheBound(t *testing.T) {
	p := previous{Container: "shop-web-1"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		// 1 KiB lines that do not compress: 100 KiB, past the bound.
		b := make([]byte, 512)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		p.Lines = append(p.Lines, previousLine{Stream: "stdout", Text: hex.EncodeToString(b)})
	}
	s, err := encodePrevious(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodePrevious(s)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Lines[len(p.Lines)-1]
	if len(s) > previousMaxBytes || len(back.Lines) == 0 || len(back.Lines) == len(p.Lines) || back.Lines[len(back.Lines)-1] != last || back.Container != p.Container {
		t.Errorf("encoded %d bytes (bound %d), %d lines back, the last kept: %v", len(s), previousMaxBytes, len(back.Lines), back.Lines[len(back.Lines)-1] == last)
	}
}

func TestProjectsGroupsContainersByProject(t *testing.T) {
	c := func(project, state, files string) container.Summary {
		return container.Summary{State: container.ContainerState(state), Labels: map[string]string{engine.LabelProject: project, engine.LabelConfigFiles: files}}
	}
	f := &dayTwoClient{containers: []container.Summary{
		c("shop", "running", "/a/compose.yaml,/a/compose.override.yaml"), c("blog", "exited", ""),
		c("shop", "exited", "/a/compose.yaml"), c("shop", "running", "/a/compose.yaml,/a/compose.override.yaml"),
	}}
	d, _ := New(WithClient(f))
	got, err := d.Projects(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "blog" || got[1].Name != "shop" || got[1].States["running"] != 2 || got[1].States["exited"] != 1 ||
		strings.Join(got[1].ConfigFiles, ",") != "/a/compose.yaml,/a/compose.override.yaml" || len(got[0].ConfigFiles) != 0 {
		t.Errorf("projects %+v", got)
	}
}
