package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/", 200, `fetch("/api/orders")`},
		{"/missing", 404, "404 page not found"},
	} {
		rec := httptest.NewRecorder()
		NewHandler().ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("GET %s = %d, want %d containing %q", tt.path, rec.Code, tt.status, tt.want)
		}
	}
}
