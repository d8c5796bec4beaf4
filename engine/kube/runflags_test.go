package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
)

// TestCheckRunRefusesWhatAJobCannotDo: each flag a one-off Job cannot
// honour is refused by name, a user name among them; those it maps are
// not.
func TestCheckRunRefusesWhatAJobCannotDo(t *testing.T) {
	d := &Driver{}
	for flag, o := range map[string]engine.RunOptions{
		"-i":            {Interactive: true},
		"-u nobody":     {User: "nobody"},
		"-u 1:staff":    {User: "1:staff"},
		"-p":            {Publish: []types.ServicePortConfig{{Target: 80}}},
		"-v":            {Volumes: []types.ServiceVolumeConfig{{Type: "volume", Source: "x", Target: "/x"}}},
		"--use-aliases": {UseAliases: true},
	} {
		err := d.CheckRun(o)
		if !errors.Is(err, engine.ErrUnsupported) || !strings.HasPrefix(err.Error(), "stack run "+flag+": ") {
			t.Errorf("%s: got %v", flag, err)
		}
	}
	ok := engine.RunOptions{Detach: true, Name: "job", User: "1000:1000", WorkingDir: "/w", Labels: map[string]string{"a": "b"}, CapDrop: []string{"ALL"}, Remove: true}
	if err := d.CheckRun(ok); err != nil {
		t.Errorf("mapped flags refused: %v", err)
	}
}

// TestOneOffJobTakesRunFlags: --name names the Job, -u and the
// capabilities are the container's securityContext (the service's own is
// left as it was: they apply to the one-off's copy of the service), -w its working directory, -l labels of the Job and its
// pod (stack's own win), and -d --rm lets the cluster delete the Job once
// finished.
func TestOneOffJobTakesRunFlags(t *testing.T) {
	const compose = `
name: p
services:
  s:
    image: busybox
    user: "5:5"
    cap_drop: [NET_RAW]
`
	o := engine.RunOptions{Service: "s", Name: "migrate", User: "1000", WorkingDir: "/src", CapAdd: []string{"NET_RAW"}, Detach: true, Remove: true,
		Labels: map[string]string{"team": "qa", engine.LabelOneoff: "no"}}
	// As Run maps it: the one-off's copy of the service.
	objs, _, err := Map(o.OneOffProject(load(t, compose)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := objs.service("s")
	own := mapOne(t, compose, Options{}).template().Spec.Containers[0].SecurityContext
	job := oneOffJob(s, "p", o)
	c := job.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case *job.Name != "migrate":
		t.Errorf("name %s", *job.Name)
	case *sc.RunAsUser != 1000 || sc.RunAsGroup != nil || *c.WorkingDir != "/src":
		t.Errorf("securityContext %+v, workdir %v", sc, c.WorkingDir)
	case len(sc.Capabilities.Add) != 1 || len(sc.Capabilities.Drop) != 0:
		t.Errorf("capabilities %+v", sc.Capabilities)
	case job.Labels["team"] != "qa" || job.Spec.Template.Labels["team"] != "qa" || job.Labels[engine.LabelOneoff] != "true":
		t.Errorf("labels %v, pod %v", job.Labels, job.Spec.Template.Labels)
	case job.Spec.TTLSecondsAfterFinished == nil || *job.Spec.TTLSecondsAfterFinished != 0:
		t.Errorf("-d --rm: ttlSecondsAfterFinished %v", job.Spec.TTLSecondsAfterFinished)
	}
	if *own.RunAsUser != 5 || len(own.Capabilities.Drop) != 1 || len(own.Capabilities.Add) != 0 {
		t.Errorf("the service's securityContext changed: %+v", own)
	}
}
