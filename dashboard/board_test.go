package dashboard

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
)

func TestServiceSummary(t *testing.T) {
	run := func(svc string, n int, state, health string) engine.Status {
		return engine.Status{Container: engine.Container{ID: svc + string(rune('0'+n)), Name: svc, Service: svc, Number: n, State: state, Health: health}}
	}
	tests := []struct {
		name         string
		ps           []engine.Status
		state        string
		health       string
		running, all int
	}{
		{"none", nil, "not created", "", 0, 0},
		{"all running", []engine.Status{run("web", 1, "running", "healthy"), run("web", 2, "running", "healthy")}, "running", "healthy", 2, 2},
		{"one of two", []engine.Status{run("web", 1, "running", "starting"), run("web", 2, "exited", "")}, "partial", "starting", 1, 2},
		{"exited", []engine.Status{run("web", 1, "exited", "")}, "exited", "", 0, 1},
		{"mixed stopped", []engine.Status{run("web", 1, "exited", ""), run("web", 2, "created", "")}, "stopped", "", 0, 2},
		{"worst health", []engine.Status{run("web", 1, "running", "healthy"), run("web", 2, "running", "unhealthy")}, "running", "unhealthy", 2, 2},
		{"other service only", []engine.Status{run("db", 1, "running", "")}, "not created", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBoard("p", []string{"web"})
			b.setPs(tt.ps, nil)
			st := b.snapshot(time.Now())
			s := st.Services[0]
			if s.Name != "web" || s.State != tt.state || s.Health != tt.health || s.Running != tt.running || s.Total != tt.all {
				t.Errorf("web = %s %q %q %d/%d, want %q %q %d/%d", s.Name, s.State, s.Health, s.Running, s.Total, tt.state, tt.health, tt.running, tt.all)
			}
		})
	}
}

func TestHistorySumsServicesAndForgetsGone(t *testing.T) {
	b := newBoard("p", []string{"web", "db"})
	b.sample(engine.Sample{Container: engine.Container{ID: "a", Service: "web"}, CPUPercent: 10, MemoryUsage: 100})
	b.sample(engine.Sample{Container: engine.Container{ID: "b", Service: "web"}, CPUPercent: 5, MemoryUsage: 50})
	b.record()
	b.sample(engine.Sample{Container: engine.Container{ID: "b", Service: "web"}, Gone: true})
	b.record()
	for range historyLength {
		b.record()
	}
	st := b.snapshot(time.Now())
	web, db := st.Services[0].History, st.Services[1].History
	if len(web.CPU) != historyLength || len(db.Memory) != historyLength {
		t.Fatalf("history lengths %d and %d, want %d", len(web.CPU), len(db.Memory), historyLength)
	}
	b2 := newBoard("p", []string{"web"})
	b2.sample(engine.Sample{Container: engine.Container{ID: "a", Service: "web"}, CPUPercent: 10, MemoryUsage: 100})
	b2.sample(engine.Sample{Container: engine.Container{ID: "b", Service: "web"}, CPUPercent: 5, MemoryUsage: 50})
	b2.record()
	b2.sample(engine.Sample{Container: engine.Container{ID: "b", Service: "web"}, Gone: true})
	b2.record()
	h := b2.snapshot(time.Now()).Services[0].History
	if h.CPU[0] != 15 || h.Memory[0] != 150 || h.CPU[1] != 10 || h.Memory[1] != 100 {
		t.Errorf("history %v %v, want [15 10] [150 100]", h.CPU, h.Memory)
	}
}

func TestGuardWantsTokenAndLoopbackHost(t *testing.T) {
	s, err := New("p", Sources{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	tests := []struct {
		name, host, target, cookie string
		want                       int
	}{
		{"no token", "127.0.0.1:8080", "/", "", http.StatusUnauthorized},
		{"wrong token", "127.0.0.1:8080", "/?token=nope", "", http.StatusUnauthorized},
		{"token", "127.0.0.1:8080", "/?token=" + s.Token(), "", http.StatusOK},
		{"cookie", "localhost:8080", "/static/app.js", s.Token(), http.StatusOK},
		{"wrong cookie", "localhost:8080", "/static/app.js", "nope", http.StatusUnauthorized},
		{"other host", "evil.example:8080", "/?token=" + s.Token(), "", http.StatusForbidden},
		{"ipv6 loopback", "[::1]:8080", "/?token=" + s.Token(), "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = tt.host
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: cookieName, Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("GET %s (Host %s): %d, want %d", tt.target, tt.host, w.Code, tt.want)
			}
		})
	}
}
