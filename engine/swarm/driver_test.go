package swarm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// manager is a fake manager: Info says whether it is one, and the service
// calls are recorded.
type manager struct {
	Client
	info    system.Info
	created []swarm.ServiceCreateOptions
	updated []swarm.ServiceSpec
	auths   []string
}

func (m *manager) Info(context.Context) (system.Info, error) { return m.info, nil }
func (m *manager) ClientVersion() string                     { return "1.41" }
func (m *manager) NegotiateAPIVersion(context.Context)       {}
func (m *manager) ServiceCreate(_ context.Context, _ swarm.ServiceSpec, o swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	m.created = append(m.created, o)
	return swarm.ServiceCreateResponse{ID: "new"}, nil
}

func (m *manager) ServiceUpdate(_ context.Context, _ string, _ swarm.Version, s swarm.ServiceSpec, o swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	m.updated = append(m.updated, s)
	m.auths = append(m.auths, o.EncodedRegistryAuth)
	return swarm.ServiceUpdateResponse{}, nil
}

var isManager = system.Info{Swarm: swarm.Info{ControlAvailable: true, LocalNodeState: swarm.LocalNodeStateActive}}

// images is a fake image builder: builds give an ID, pushes a digest, and
// every registry has credentials.
type images struct {
	ensured, pushed []string
}

func (f *images) Ensure(_ context.Context, _ *manifest.Project, services []string, _ image.EnsureOptions) (map[string]string, error) {
	f.ensured = append(f.ensured, services...)
	ids := map[string]string{}
	for _, s := range services {
		ids[s] = "sha256:id-" + s
	}
	return ids, nil
}

func (f *images) Push(_ context.Context, p *manifest.Project, services []string) ([]image.Pushed, error) {
	var out []image.Pushed
	for _, s := range services {
		f.pushed = append(f.pushed, s)
		out = append(out, image.Pushed{Service: s, Ref: p.ImageName(s), Digest: digest})
	}
	return out, nil
}

func (f *images) PushIDs(context.Context, []image.Upload) ([]image.Pushed, error) {
	return nil, errors.New("not expected")
}

func (f *images) RegistryAuth(_ context.Context, ref string) (string, error) {
	return "auth-for-" + strings.SplitN(ref, "/", 2)[0], nil
}

func loadManifest(t *testing.T, yaml string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: "shop", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheck: a worker, or an engine in no swarm, is refused saying how to
// fix it; a service that builds needs a registry; fields Swarm cannot
// honour are warnings by resource.
func TestCheck(t *testing.T) {
	p := loadManifest(t, `
services:
  web: {build: ., privileged: true}
  cache: {image: redis:7-alpine}
networks:
  default: {driver: bridge}
`)
	d, _ := New(WithClient(&manager{info: system.Info{Name: "worker-1", Swarm: swarm.Info{LocalNodeState: swarm.LocalNodeStateActive}}}))
	_, err := d.Check(t.Context(), p, nil)
	if !errors.Is(err, ErrNotManager) || !strings.Contains(err.Error(), "worker-1") || !strings.Contains(err.Error(), "not a manager") {
		t.Errorf("on a worker: %v", err)
	}
	d, _ = New(WithClient(&manager{info: isManager}))
	_, err = d.Check(t.Context(), p, nil)
	if !errors.Is(err, image.ErrNoRegistry) || !strings.Contains(err.Error(), `service "web"`) || !strings.Contains(err.Error(), "shop-web") {
		t.Fatalf("a build without a registry: %v", err)
	}
	s := p.Project.Services["web"]
	s.Image = "127.0.0.1:5235/shop/web:1"
	p.Project.Services["web"] = s
	w, err := d.Check(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(w["service:web"]) != 1 || !strings.Contains(w["service:web"][0], "privileged") {
		t.Errorf("web's warnings: %v", w["service:web"])
	}
	if len(w["network:default"]) != 1 || !strings.Contains(w["network:default"][0], "bridge") {
		t.Errorf("the network's warnings: %v", w)
	}
}

// TestResolve: a service that builds is built and pushed, one named by
// digest is used as it is, and p is pinned to the digests.
func TestResolveBuildsAndPins(t *testing.T) {
	p := loadManifest(t, `
services:
  web: {build: ., image: "127.0.0.1:5235/shop/web:1"}
  cache: {image: "127.0.0.1:5235/redis@`+digest+`"}
`)
	f := &images{}
	d, _ := New(WithClient(&manager{info: isManager}), WithImages(f, nil))
	refs, err := d.Resolve(t.Context(), p, nil, image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web": "127.0.0.1:5235/shop/web@" + digest, "cache": "127.0.0.1:5235/redis@" + digest}
	for svc, ref := range want {
		if refs[svc] != ref || p.Project.Services[svc].Image != ref {
			t.Errorf("%s: resolved %q, pinned %q; want %q", svc, refs[svc], p.Project.Services[svc].Image, ref)
		}
	}
	if strings.Join(f.ensured, ",") != "web" || strings.Join(f.pushed, ",") != "web" {
		t.Errorf("built %v, pushed %v: want web only", f.ensured, f.pushed)
	}
}

// TestUpdateCarriesCredentialsAndForce: an update sends the registry's
// credentials with the spec (nodes pull private images with them) and
// keeps the observed force counter, raising it only to restart the tasks.
func TestUpdateCarriesCredentialsAndForce(t *testing.T) {
	p := pinnedProject(t, opsSeed, nil)
	m := &manager{info: isManager}
	d, _ := New(WithClient(m), WithImages(&images{}, nil))
	obs := observed(p, deployed(t, p, "")) // the secret exists
	x, err := d.Begin(t.Context(), &engine.Plan{Project: "shop", Desired: p, Observed: obs}, engine.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	desired, err := Map(p.Project, Options{Images: placeholders(p, nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		op := &engine.Op{ID: "update", Action: "service:app", Payload: &updateService{service: "app", spec: desired.service("app"), current: ObservedService{ID: "app-id", Version: 3, ForceUpdate: 7}, force: force}}
		if err := x.Execute(t.Context(), op, discard{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.updated) != 2 || m.updated[0].TaskTemplate.ForceUpdate != 7 || m.updated[1].TaskTemplate.ForceUpdate != 8 {
		t.Errorf("force counters sent: %+v", m.updated)
	}
	if m.auths[0] != "auth-for-127.0.0.1:5235" {
		t.Errorf("credentials sent: %q", m.auths[0])
	}
}

// TestOneOff: a one-off job runs the command once, with the extra
// environment, no published ports and no healthcheck, labelled one-off and
// without the service's hash.
func TestOneOff(t *testing.T) {
	p := pinnedProject(t, opsSeed+"\n", nil)
	desired, err := Map(p.Project, Options{Images: placeholders(p, nil)})
	if err != nil {
		t.Fatal(err)
	}
	spec := desired.service("redis").Spec
	oneOff(&spec, engine.RunOptions{Command: []string{"redis-cli", "info"}, Env: []string{"A=1"}})
	cs := spec.TaskTemplate.ContainerSpec
	switch {
	case !strings.HasPrefix(spec.Name, "shop_redis-run-"):
		t.Errorf("name %s", spec.Name)
	case spec.Mode.ReplicatedJob == nil || *spec.Mode.ReplicatedJob.TotalCompletions != 1:
		t.Errorf("mode %+v", spec.Mode)
	case spec.Labels[engine.LabelOneoff] != "true" || spec.Labels[engine.LabelConfigHash] != "":
		t.Errorf("labels %v", spec.Labels)
	case strings.Join(cs.Args, " ") != "redis-cli info" || cs.Env[len(cs.Env)-1] != "A=1" || cs.Healthcheck != nil:
		t.Errorf("container %+v", cs)
	case spec.TaskTemplate.RestartPolicy.Condition != swarm.RestartPolicyConditionNone:
		t.Errorf("restart %+v", spec.TaskTemplate.RestartPolicy)
	}
	if desired.service("redis").Spec.Labels[engine.LabelOneoff] != "" {
		t.Error("the service's own spec was changed")
	}
}

// TestLogLinesGoToTheirTask: the manager's log details name the task each
// line is from.
func TestLogLinesGoToTheirTask(t *testing.T) {
	var got []string
	r := &taskRouter{
		line: func(l engine.LogLine) {
			got = append(got, fmt.Sprintf("%s %s %s %s", l.Container.Name, l.Stream, l.Time.Format(time.RFC3339), l.Text))
		},
		tasks: map[string]swarm.Task{"t1": {ID: "t1", Slot: 1}, "t2": {ID: "t2", Slot: 2}},
	}
	svc := swarm.Service{Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop_web", Labels: map[string]string{engine.LabelService: "web"}}}}
	r.write(svc, []byte("2026-12-01T09:00:01Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s,com.docker.swarm.task.id=t2 hello\n"), "stdout")
	r.write(svc, []byte("2026-12-01T09:00:02Z com.docker.swarm.task.id=t1 oops\n"), "stderr")
	want := []string{"shop_web.2 stdout 2026-12-01T09:00:01Z hello", "shop_web.1 stderr 2026-12-01T09:00:02Z oops"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestNoOpPlansNothing: a project deployed as it is plans no change and no
// call, its hashes being the driver's (engine.Hasher).
func TestNoOpPlansNothing(t *testing.T) {
	d, _ := New(WithClient(&manager{info: isManager}))
	p := pinnedProject(t, opsSeed, nil)
	images, err := d.ConfigHashes(p, engine.Images{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Diff(p, images, observed(p, deployed(t, p, "")), engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Graph, err = d.Operations(plan); err != nil {
		t.Fatal(err)
	}
	if plan.Changes() != 0 || len(plan.Graph.Ops) != 0 {
		t.Errorf("a deployed project plans:\n%s%d calls", plan.Text(), len(plan.Graph.Ops))
	}
}
