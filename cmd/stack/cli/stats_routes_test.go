package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/gateway"
)

// The routes' table goes below the services' and, live, above the footer.
func TestRoutesTableSitsAboveTheFooter(t *testing.T) {
	rows := []gateway.RouteStats{{Service: "web", Route: "/api", Requests: 120, RequestsPerSecond: 2.5, ErrorsPerSecond: 0.5, P50: 1500 * time.Microsecond, P99: 12 * time.Millisecond}}
	live := addRoutes(frame{lines: []string{"SERVICE ...", "web ...", "", "12:00:00  every second"}}, rows, true, 0)
	want := []string{"SERVICE ...", "web ...", "", "ROUTE   SERVICE   REQUESTS   REQ/S   5XX/S   P50     P99", "/api    web       120        2.5     0.5     1.5ms   12.0ms", "", "12:00:00  every second"}
	if strings.Join(live.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("live frame:\n%s\nwant:\n%s", strings.Join(live.lines, "\n"), strings.Join(want, "\n"))
	}
	once := addRoutes(frame{lines: []string{"SERVICE ...", "web ..."}}, rows, false, 0)
	if len(once.lines) != 5 || !strings.HasPrefix(once.lines[3], "ROUTE") {
		t.Errorf("frame without a footer:\n%s", strings.Join(once.lines, "\n"))
	}
	if f := addRoutes(frame{lines: []string{"x"}}, nil, false, 0); len(f.lines) != 1 {
		t.Errorf("no routes added lines: %q", f.lines)
	}
}
