package orders

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var noon = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{name: "empty list", method: "GET", path: "/api/orders", wantStatus: 200, wantBody: "[]"},
		{name: "place", method: "POST", path: "/api/orders", body: `{"pizza":" Diavola ","quantity":2}`, wantStatus: 201,
			wantBody: `{"id":1,"pizza":"diavola","quantity":2,"status":"received","created":"2026-11-22T12:00:00Z"}`},
		{name: "quantity defaults to one", method: "POST", path: "/api/orders", body: `{"pizza":"marinara"}`, wantStatus: 201,
			wantBody: `"quantity":1`},
		{name: "not on the menu", method: "POST", path: "/api/orders", body: `{"pizza":"hawaii"}`, wantStatus: 400,
			wantBody: `no pizza "hawaii" on the menu: margherita, marinara, diavola, quattro formaggi`},
		{name: "too many", method: "POST", path: "/api/orders", body: `{"pizza":"marinara","quantity":21}`, wantStatus: 400,
			wantBody: "quantity 21: order 1 to 20 pizzas"},
		{name: "not json", method: "POST", path: "/api/orders", body: `pizza`, wantStatus: 400, wantBody: "reading order"},
		{name: "unknown id", method: "GET", path: "/api/orders/7", wantStatus: 404, wantBody: `no order "7"`},
		{name: "bad id", method: "GET", path: "/api/orders/x", wantStatus: 404, wantBody: `no order "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "orders.json"))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			NewHandler(s, func() time.Time { return noon }).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("%s %s = %d %q; want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestStorePersists: what one process stores, the next one (a redeployed
// container on the same volume) reads back.
func TestStorePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(s, func() time.Time { return noon })
	for _, p := range []string{"margherita", "diavola"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/orders", strings.NewReader(`{"pizza":"`+p+`"}`)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("placing %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := again.Get(2)
	if !ok || o.Pizza != "diavola" || len(again.List()) != 2 {
		t.Fatalf("after reopening: order 2 = %+v, %v; %d orders; want diavola of 2", o, ok, len(again.List()))
	}
	rec := httptest.NewRecorder()
	NewHandler(again, time.Now).ServeHTTP(rec, httptest.NewRequest("GET", "/api/orders/1", nil))
	if !strings.Contains(rec.Body.String(), `"pizza":"margherita"`) {
		t.Errorf("GET /api/orders/1 after reopening = %s", rec.Body)
	}
}

func TestOpenCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "reading orders from "+path) {
		t.Fatalf("Open(corrupt) error = %v", err)
	}
}
