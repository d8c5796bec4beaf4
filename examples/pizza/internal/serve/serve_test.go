package serve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUpstream(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		wantErr string
	}{
		{env: map[string]string{"ORDERS_HOST": "orders", "ORDERS_PORT": "8080"}, want: "http://orders:8080"},
		{env: map[string]string{"ORDERS_HOST": "fd00::1", "ORDERS_PORT": "80"}, want: "http://[fd00::1]:80"},
		{env: map[string]string{"ORDERS_HOST": "orders"},
			wantErr: "ORDERS_HOST and ORDERS_PORT must be set (stack injects them when the service depends_on orders)"},
	}
	for _, tt := range tests {
		u, err := Upstream(func(k string) string { return tt.env[k] }, "ORDERS")
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Upstream(%v) error = %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("Upstream(%v) = %v, %v; want %s", tt.env, u, err, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	if err := Check(srv.URL); err != nil {
		t.Errorf("Check(200) = %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := Check(srv.URL); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Check(503) = %v, want an error naming 503", err)
	}
	if err := Check("http://127.0.0.1:1/healthz"); err == nil {
		t.Error("Check(nothing listening) = nil")
	}
}
