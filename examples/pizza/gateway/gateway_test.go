package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRouting(t *testing.T) {
	var routes []Route
	for _, r := range []struct{ name, prefix string }{{"messages", "/api/messages"}, {"orders", "/api/orders"}, {"web", "/"}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			fmt.Fprintf(w, "%s %s %s fwd=%s", r.name, req.Method, req.URL.Path, req.Header.Get("X-Forwarded-For"))
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		routes = append(routes, Route{Name: r.name, Prefix: r.prefix, Target: u})
	}
	down, _ := url.Parse("http://127.0.0.1:1")
	routes = append(routes, Route{Name: "kitchen", Prefix: "/api/kitchen", Target: down})
	gw := httptest.NewServer(New(routes))
	defer gw.Close()

	tests := []struct {
		method, path string
		wantStatus   int
		want         string
	}{
		{"GET", "/", 200, "web GET /"},
		{"GET", "/style.css", 200, "web GET /style.css"},
		{"GET", "/api/messages", 200, "messages GET /api/messages"},
		{"POST", "/api/orders", 200, "orders POST /api/orders"},
		{"GET", "/api/orders/3", 200, "orders GET /api/orders/3"},
		{"GET", "/api/ordersx", 200, "web GET /api/ordersx"},
		{"GET", "/api/kitchen", 502, "kitchen is not answering"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, gw.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s %s = %d %q; want %d containing %q", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus, tt.want)
		}
		if tt.wantStatus == 200 && !strings.Contains(string(body), "fwd=127.0.0.1") {
			t.Errorf("%s %s: X-Forwarded-For not set: %q", tt.method, tt.path, body)
		}
	}
}
