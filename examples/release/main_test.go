package main

import (
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	h := newHandler("1.2.3", "staging")
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/", 200, `{"environment":"staging","version":"1.2.3"}` + "\n"},
		{"/healthz", 200, "ok\n"},
		{"/other", 404, "404 page not found\n"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
}
