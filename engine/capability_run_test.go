package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestRefuseRun: the first refused flag set is named, with the
// orchestrator and what to do instead; none set refuses nothing.
func TestRefuseRun(t *testing.T) {
	refusals := []RunRefusal{{Flag: "-i", Why: "no stdin"}, {Flag: "-p", Set: true, Why: "publish with ports"}, {Flag: "-v", Set: true, Why: "later"}}
	err := RefuseRun("swarm", refusals)
	if !errors.Is(err, ErrUnsupported) || err.Error() != "stack run -p: not supported by the swarm orchestrator: publish with ports" {
		t.Errorf("got %v", err)
	}
	if err := RefuseRun("swarm", refusals[:1]); err != nil {
		t.Errorf("nothing set: got %v", err)
	}
	if strings.Contains(RefuseRun("kubernetes", refusals[2:]).Error(), "-p") {
		t.Error("named a flag not set")
	}
}

// TestRunCapabilities: the command line wins over the manifest, which is
// not changed.
func TestRunCapabilities(t *testing.T) {
	add, drop := []string{"CHOWN"}, []string{"NET_ADMIN"}
	a, d := RunOptions{CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"CHOWN", "MKNOD"}}.Capabilities(add, drop)
	if strings.Join(a, ",") != "NET_ADMIN" || strings.Join(d, ",") != "CHOWN,MKNOD" {
		t.Errorf("add %v drop %v", a, d)
	}
	if add[0] != "CHOWN" || drop[0] != "NET_ADMIN" {
		t.Errorf("the manifest's lists changed: %v %v", add, drop)
	}
}

// TestOneOffServiceAppliesTheFlagsToACopy: -u, -w, -l, -v, -p and the
// capabilities change the one-off's service only.
func TestOneOffServiceAppliesTheFlagsToACopy(t *testing.T) {
	svc := types.ServiceConfig{Name: "web"}
	svc.User, svc.Labels = "1", types.Labels{"k": "v"}
	svc.Volumes = []types.ServiceVolumeConfig{{Type: "volume", Source: "data", Target: "/data"}}
	svc.Ports = []types.ServicePortConfig{{Target: 80, Published: "8080"}}
	o := RunOptions{User: "2", WorkingDir: "/w", Labels: map[string]string{"team": "qa"},
		Volumes: []types.ServiceVolumeConfig{{Type: "bind", Source: "/src", Target: "/src"}},
		Publish: []types.ServicePortConfig{{Target: 8080, Published: "9090"}}, CapDrop: []string{"ALL"}}
	got := o.OneOffService(svc)
	if got.User != "2" || got.WorkingDir != "/w" || got.Labels["team"] != "qa" || got.Labels["k"] != "v" ||
		len(got.Volumes) != 2 || got.Ports[0].Published != "9090" || !slices.Equal(got.CapDrop, []string{"ALL"}) {
		t.Errorf("one-off's service %+v", got)
	}
	if svc.User != "1" || len(svc.Labels) != 1 || len(svc.Volumes) != 1 || svc.Ports[0].Published != "8080" {
		t.Errorf("the service changed: %+v", svc)
	}
}
