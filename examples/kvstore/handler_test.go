package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// mapStore is a Store in memory; down makes every call fail like an
// unreachable Redis.
type mapStore struct {
	m    map[string]string
	down bool
}

func (s *mapStore) Set(_ context.Context, k, v string) error {
	if s.down {
		return errors.New("connection refused")
	}
	s.m[k] = v
	return nil
}

func (s *mapStore) Get(_ context.Context, k string) (string, bool, error) {
	if s.down {
		return "", false, errors.New("connection refused")
	}
	v, ok := s.m[k]
	return v, ok, nil
}

func (s *mapStore) Ping(context.Context) error {
	if s.down {
		return errors.New("connection refused")
	}
	return nil
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		store      map[string]string
		down       bool
		method     string
		path       string
		wantStatus int
		wantBody   string
		wantStored map[string]string
	}{
		{name: "post stores a random number", method: "POST", path: "/pizza",
			wantStatus: 201, wantBody: `{"key":"pizza","value":42}`, wantStored: map[string]string{"pizza": "42"}},
		{name: "post overwrites", store: map[string]string{"pizza": "7"}, method: "POST", path: "/pizza",
			wantStatus: 201, wantBody: `{"key":"pizza","value":42}`, wantStored: map[string]string{"pizza": "42"}},
		{name: "get reads back", store: map[string]string{"pizza": "7"}, method: "GET", path: "/pizza",
			wantStatus: 200, wantBody: `{"key":"pizza","value":7}`},
		{name: "get unknown key", method: "GET", path: "/nope",
			wantStatus: 404, wantBody: `no value for "nope": POST /nope stores one`},
		{name: "get corrupt value", store: map[string]string{"x": "abc"}, method: "GET", path: "/x",
			wantStatus: 500, wantBody: `value of "x" is not a number`},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok"},
		{name: "healthz redis down", down: true, method: "GET", path: "/healthz", wantStatus: 503, wantBody: "connection refused"},
		{name: "post redis down", down: true, method: "POST", path: "/a", wantStatus: 502},
		{name: "get redis down", down: true, method: "GET", path: "/a", wantStatus: 502},
		{name: "delete not allowed", method: "DELETE", path: "/a", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &mapStore{m: map[string]string{}, down: tt.down}
			for k, v := range tt.store {
				s.m[k] = v
			}
			h := newHandler(s, func() int64 { return 42 })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tt.wantStatus, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tt.wantBody)
			}
			for k, v := range tt.wantStored {
				if s.m[k] != v {
					t.Errorf("stored[%q] = %q, want %q", k, s.m[k], v)
				}
			}
			if tt.wantStatus == http.StatusOK || tt.wantStatus == http.StatusCreated {
				if ct := rec.Header().Get("Content-Type"); tt.path != "/healthz" && ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}
