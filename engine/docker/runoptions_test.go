package docker

import (
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
)

// TestRunServiceAppliesTheFlagsToACopy: -u, -w, -l, -v, -p and the
// capabilities change the one-off's service only.
func TestRunServiceAppliesTheFlagsToACopy(t *testing.T) {
	svc := types.ServiceConfig{Name: "web"}
	svc.User, svc.Labels = "1", types.Labels{"k": "v"}
	svc.Volumes = []types.ServiceVolumeConfig{{Type: "volume", Source: "data", Target: "/data"}}
	svc.Ports = []types.ServicePortConfig{{Target: 80, Published: "8080"}}
	o := engine.RunOptions{User: "2", WorkingDir: "/w", Labels: map[string]string{"team": "qa"},
		Volumes: []types.ServiceVolumeConfig{{Type: "bind", Source: "/src", Target: "/src"}},
		Publish: []types.ServicePortConfig{{Target: 8080, Published: "9090"}}, CapDrop: []string{"ALL"}}
	got := runService(svc, o)
	if got.User != "2" || got.WorkingDir != "/w" || got.Labels["team"] != "qa" || got.Labels["k"] != "v" ||
		len(got.Volumes) != 2 || got.Ports[0].Published != "9090" || !slices.Equal(got.CapDrop, []string{"ALL"}) {
		t.Errorf("one-off's service %+v", got)
	}
	if svc.User != "1" || len(svc.Labels) != 1 || len(svc.Volumes) != 1 || svc.Ports[0].Published != "8080" {
		t.Errorf("the service changed: %+v", svc)
	}
}

// TestLogsReadNamesOneOffs: a one-off is read when named, alone when no
// service is; a name that is neither is an error.
func TestLogsReadNamesOneOffs(t *testing.T) {
	cs := []engine.Container{{Name: "p-web-1", Service: "web", Number: 1}, {Name: "p-web-run-1", Service: "web", OneOff: true}}
	names := func(o engine.LogsOptions) string {
		read, err := logsRead(cs, o)
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, c := range read {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		o    engine.LogsOptions
		want string
	}{
		{engine.LogsOptions{}, "p-web-1"},
		{engine.LogsOptions{OneOffs: []string{"p-web-run-1"}}, "p-web-run-1"},
		{engine.LogsOptions{Services: []string{"web"}, OneOffs: []string{"p-web-run-1"}}, "p-web-1,p-web-run-1"},
		{engine.LogsOptions{OneOffs: []string{"nope"}}, `no such service or one-off container: "nope"`},
	} {
		if got := names(tc.o); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.o, got, tc.want)
		}
	}
}
