package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
)

// fakeEngine feeds the server: one running container of web, a sample of
// it a tick, and one event once a page listens.
type fakeEngine struct{ events chan engine.Event }

func (f fakeEngine) Ps(context.Context, string, bool) ([]engine.Status, error) {
	return []engine.Status{{Container: engine.Container{ID: "c1", Name: "p-web-1", Service: "web", Number: 1, State: "running", Health: "healthy"}, Image: "busybox"}}, nil
}

func (f fakeEngine) Stats(ctx context.Context, _ string, _ engine.StatsOptions, sample func(engine.Sample)) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			sample(engine.Sample{Container: engine.Container{ID: "c1", Service: "web"}, CPUPercent: 12.5, MemoryUsage: 1 << 20})
		}
	}
}

func (f fakeEngine) Events(ctx context.Context, _ string, _ engine.EventsOptions, event func(engine.Event)) error {
	select {
	case <-ctx.Done():
	case e := <-f.events:
		event(e)
		<-ctx.Done()
	}
	return nil
}

// The server's event stream gives a page the state (the services with
// their figures) and the events, and ends when the server does.
func TestServeStreamsStateAndEvents(t *testing.T) {
	f := fakeEngine{events: make(chan engine.Event, 1)}
	s, err := New("p", Sources{Lister: f, Stats: f, Events: f}, WithServices([]string{"web", "db"}), WithInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/events?token="+s.Token(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	f.events <- engine.Event{Service: "web", Container: "p-web-1", Action: "start"}

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var name string
	var gotEvent, gotState bool
	deadline := time.Now().Add(10 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) && !(gotEvent && gotState) {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			name = n
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch name {
		case "event":
			var e engine.Event
			gotEvent = json.Unmarshal([]byte(data), &e) == nil && e.Action == "start"
		case "state":
			var st State
			if err := json.Unmarshal([]byte(data), &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Services) != 2 || st.Services[1].State != "not created" {
				t.Fatalf("services %+v, want web and db (not created)", st.Services)
			}
			web := st.Services[0]
			gotState = gotState || (web.State == "running" && web.Health == "healthy" && web.CPU == 12.5 && web.Memory == 1<<20 && len(web.History.CPU) > 0)
		}
	}
	if !gotEvent || !gotState {
		t.Fatalf("the stream gave the event: %v, web running with its figures: %v", gotEvent, gotState)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of its context's end")
	}
}
