package swarm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
)

// TestCheckRunRefusesWhatAJobCannotDo: each flag a one-off job cannot
// honour is refused by name; those it maps are not.
func TestCheckRunRefusesWhatAJobCannotDo(t *testing.T) {
	d := &Driver{}
	for flag, o := range map[string]engine.RunOptions{
		"-i":            {Interactive: true},
		"-d":            {Detach: true},
		"--name":        {Name: "x"},
		"-p":            {Publish: []types.ServicePortConfig{{Target: 80}}},
		"-v":            {Volumes: []types.ServiceVolumeConfig{{Type: "bind", Source: "/x", Target: "/x"}}},
		"--use-aliases": {UseAliases: true},
	} {
		err := d.CheckRun(o)
		if !errors.Is(err, engine.ErrUnsupported) || !strings.HasPrefix(err.Error(), "stack run "+flag+": ") {
			t.Errorf("%s: got %v", flag, err)
		}
	}
	ok := engine.RunOptions{User: "nobody", WorkingDir: "/w", Labels: map[string]string{"a": "b"}, CapAdd: []string{"NET_ADMIN"}, ServicePorts: true, Remove: true}
	if err := d.CheckRun(ok); err != nil {
		t.Errorf("mapped flags refused: %v", err)
	}
}

// TestRunFlagsOnTheJobsContainer: -u, -w, -l and the capabilities land on
// the job's container spec, mapped from the one-off's copy of the service.
func TestRunFlagsOnTheJobsContainer(t *testing.T) {
	p := loadManifest(t, `
services:
  web:
    image: busybox
    user: "1"
    working_dir: /
    labels: {k: v}
    cap_drop: [NET_ADMIN]
`)
	o := engine.RunOptions{Service: "web", User: "app", WorkingDir: "/src", Labels: map[string]string{"team": "qa"}, CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"CHOWN"}}
	desired, err := Map(o.OneOffProject(p).Project, Options{Images: placeholders(p, nil)})
	if err != nil {
		t.Fatal(err)
	}
	cs := desired.service("web").Spec.TaskTemplate.ContainerSpec
	if cs.User != "app" || cs.Dir != "/src" || cs.Labels["team"] != "qa" || cs.Labels["k"] != "v" {
		t.Errorf("container %+v", cs)
	}
	if !slices.Equal(cs.CapabilityAdd, []string{"NET_ADMIN"}) || !slices.Equal(cs.CapabilityDrop, []string{"CHOWN"}) {
		t.Errorf("capabilities add %v drop %v", cs.CapabilityAdd, cs.CapabilityDrop)
	}
	if svc := p.Project.Services["web"]; len(svc.Labels) != 1 || !slices.Equal(svc.CapDrop, []string{"NET_ADMIN"}) {
		t.Errorf("the service changed: %+v", svc)
	}
}
