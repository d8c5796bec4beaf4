package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/gateway"
)

// A slice of what Caddy 2.6 serves on /metrics: a route server's subroute
// series (two codes), its inner handler's (not counted again), and the
// public server's (not a route).
const caddyMetrics = `# HELP caddy_http_request_duration_seconds Histogram of round-trip request durations.
# TYPE caddy_http_request_duration_seconds histogram
caddy_http_request_duration_seconds_bucket{code="200",handler="subroute",method="GET",server="route:web:/api",le="0.005"} 60
caddy_http_request_duration_seconds_bucket{code="200",handler="subroute",method="GET",server="route:web:/api",le="0.01"} 90
caddy_http_request_duration_seconds_bucket{code="200",handler="subroute",method="GET",server="route:web:/api",le="+Inf"} 100
caddy_http_request_duration_seconds_sum{code="200",handler="subroute",method="GET",server="route:web:/api"} 0.5
caddy_http_request_duration_seconds_count{code="200",handler="subroute",method="GET",server="route:web:/api"} 100
caddy_http_request_duration_seconds_bucket{code="502",handler="subroute",method="GET",server="route:web:/api",le="0.005"} 0
caddy_http_request_duration_seconds_bucket{code="502",handler="subroute",method="GET",server="route:web:/api",le="0.01"} 0
caddy_http_request_duration_seconds_bucket{code="502",handler="subroute",method="GET",server="route:web:/api",le="+Inf"} 4
caddy_http_request_duration_seconds_sum{code="502",handler="subroute",method="GET",server="route:web:/api"} 20
caddy_http_request_duration_seconds_count{code="502",handler="subroute",method="GET",server="route:web:/api"} 4
caddy_http_request_duration_seconds_bucket{code="200",handler="reverse_proxy",method="GET",server="route:web:/api",le="0.005"} 60
caddy_http_request_duration_seconds_bucket{code="200",handler="reverse_proxy",method="GET",server="route:web:/api",le="0.01"} 90
caddy_http_request_duration_seconds_bucket{code="200",handler="reverse_proxy",method="GET",server="route:web:/api",le="+Inf"} 100
caddy_http_request_duration_seconds_sum{code="200",handler="reverse_proxy",method="GET",server="route:web:/api"} 0.5
caddy_http_request_duration_seconds_count{code="200",handler="reverse_proxy",method="GET",server="route:web:/api"} 100
caddy_http_request_duration_seconds_bucket{code="200",handler="subroute",method="GET",server="gateway",le="+Inf"} 7
caddy_http_request_duration_seconds_sum{code="200",handler="subroute",method="GET",server="gateway"} 0.1
caddy_http_request_duration_seconds_count{code="200",handler="subroute",method="GET",server="gateway"} 7
`

func TestParseMetrics(t *testing.T) {
	rcs, err := gateway.ParseMetrics(strings.NewReader(caddyMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if len(rcs) != 1 {
		t.Fatalf("got %d routes, want 1: %+v", len(rcs), rcs)
	}
	rc := rcs[0]
	if rc.Service != "web" || rc.Route != "/api" || rc.Requests != 104 || rc.Errors5xx != 4 {
		t.Errorf("counters %+v, want web /api, 104 requests, 4 5xx", rc)
	}
	// Since start: 60 of 104 within 5 ms, 90 within 10 ms.
	s := gateway.Interval(nil, rc, 0)
	if s.RequestsPerSecond != 0 || s.P50 <= 0 || s.P50 > 5*time.Millisecond || s.P99 != 10*time.Millisecond {
		t.Errorf("first reading %+v: want no rate, p50 within 5 ms, p99 at 10 ms (the highest finite bound)", s)
	}
	// Ten seconds later, 20 more requests, all within 5 ms.
	next := rc
	next.Requests += 20
	next.Buckets = append([]gateway.Bucket(nil), rc.Buckets...)
	for i := range next.Buckets {
		next.Buckets[i].Count += 20
	}
	s = gateway.Interval(&rc, next, 10*time.Second)
	if s.RequestsPerSecond != 2 || s.ErrorsPerSecond != 0 || s.P99 > 5*time.Millisecond || s.Requests != 124 {
		t.Errorf("interval %+v: want 2 req/s, no 5xx, p99 within 5 ms, 124 in all", s)
	}
}

func TestParseMetricsRefusesGarbage(t *testing.T) {
	if _, err := gateway.ParseMetrics(strings.NewReader("caddy_http_request_duration_seconds_bucket{le=\n")); err == nil {
		t.Error("parsed garbage")
	}
}
