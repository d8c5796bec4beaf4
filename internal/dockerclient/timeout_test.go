package dockerclient

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBoundOf(t *testing.T) {
	b := &boundedTransport{bound: time.Minute}
	tests := []struct {
		method, target string
		want           time.Duration
		bounded        bool
	}{
		{"GET", "/v1.41/containers/json", time.Minute, true},
		{"POST", "/v1.41/containers/abc/start", time.Minute, true},
		{"POST", "/v1.41/containers/abc/stop?t=30", time.Minute + 30*time.Second, true},
		{"POST", "/v1.56/containers/abc/restart?timeout=5", time.Minute + 5*time.Second, true},
		{"POST", "/containers/abc/stop", time.Minute + 10*time.Second, true},
		{"POST", "/v1.41/containers/abc/stop?t=-1", 0, false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "http://docker"+tt.target, nil)
		path := req.URL.Path
		if loc := versionPrefix.FindStringIndex(path); loc != nil {
			path = path[loc[1]-1:]
		}
		got, ok := b.boundOf(req, path)
		if got != tt.want || ok != tt.bounded {
			t.Errorf("%s %s: bound %v, %v; want %v, %v", tt.method, tt.target, got, ok, tt.want, tt.bounded)
		}
	}
	if _, ok := (&boundedTransport{}).boundOf(httptest.NewRequest(http.MethodGet, "http://docker/_ping", nil), "/_ping"); ok {
		t.Error("a bound of 0 bounds calls; want none")
	}
}

func TestParseCallTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": DefaultCallTimeout, "90": 90 * time.Second, "2m": 2 * time.Minute, "0": 0} {
		if got, err := ParseCallTimeout(in); err != nil || got != want {
			t.Errorf("ParseCallTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseCallTimeout("soon"); err == nil {
		t.Error(`ParseCallTimeout("soon"): no error`)
	}
}
