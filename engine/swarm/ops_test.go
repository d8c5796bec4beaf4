package swarm

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// opsSeed: app waits for redis healthy and for the migrate job, mounts a
// secret and rolls out start-first; redis has a volume.
const opsSeed = `
services:
  app:
    image: app:1
    environment: {MODE: a}
    depends_on:
      redis: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    secrets: [token]
    deploy: {replicas: 2, update_config: {order: start-first}}
  migrate:
    image: app:1
    command: [migrate]
  redis:
    image: redis:7-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
    volumes: ["data:/data"]
secrets:
  token: {environment: TOKEN}
volumes:
  data: {}
`

// TestOperationsGolden pins the manager calls (`stack plan --format json`)
// for each kind of change: what is created, updated or removed, in which
// order, and what each waits for. Run with -update to rewrite
// testdata/ops/*.json after a deliberate change, and read the diff.
func TestOperationsGolden(t *testing.T) {
	d, err := New(WithClient(&fakeClient{}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, before, after string
		afterImages         map[string]string // by service, over opsImages
		notConverged        string            // a service observed with one task short
		opts                engine.DiffOptions
		down, restart       bool
	}{
		{name: "new", after: opsSeed},
		{name: "unchanged", before: opsSeed, after: opsSeed},
		{name: "env-change", before: opsSeed, after: strings.Replace(opsSeed, "MODE: a", "MODE: b", 1)},
		{name: "image-change", before: opsSeed, after: opsSeed, afterImages: map[string]string{"app": "127.0.0.1:5235/shop/app@sha256:" + strings.Repeat("2", 64)}},
		{name: "scale-up", before: opsSeed, after: strings.Replace(opsSeed, "replicas: 2", "replicas: 4", 1)},
		{name: "secret-change", before: opsSeed, after: strings.Replace(opsSeed, "environment: TOKEN", "environment: OTHER", 1)},
		// app stops mounting the secret, and the manifest drops it: the
		// plan shows its removal, after app's update.
		{name: "secret-dropped", before: opsSeed, after: strings.Replace(strings.Replace(opsSeed, "    secrets: [token]\n", "", 1), "secrets:\n  token: {environment: TOKEN}\n", "", 1)},
		{name: "becomes-job", before: opsSeed, after: strings.Replace(opsSeed, "migrate: {condition: service_completed_successfully}", "migrate: {condition: service_started}", 1)},
		{name: "not-converged", before: opsSeed, after: opsSeed, notConverged: "app"},
		{name: "orphan", before: strings.Replace(opsSeed, "services:\n", "services:\n  old:\n    image: busybox:stable\n", 1), after: opsSeed, opts: engine.DiffOptions{RemoveOrphans: true}},
		{name: "down", before: opsSeed, after: opsSeed, down: true},
		{name: "restart", before: opsSeed, after: opsSeed, restart: true},
		{name: "force-recreate", before: opsSeed, after: opsSeed, opts: engine.DiffOptions{ForceRecreate: true, Services: []string{"redis"}, NoDeps: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := &engine.Observed{Driver: &Observed{}}
			if tt.before != "" {
				before := pinnedProject(t, tt.before, nil)
				obs = observed(before, deployed(t, before, tt.notConverged))
			}
			p := pinnedProject(t, tt.after, tt.afterImages)
			var plan *engine.Plan
			switch {
			case tt.down:
				plan = engine.Down(p, obs, engine.DownOptions{Volumes: true})
			case tt.restart:
				if plan, err = engine.RestartServices(p, engine.Images{}, obs, []string{"app"}); err != nil {
					t.Fatal(err)
				}
			default:
				images, err := d.ConfigHashes(p, engine.Images{})
				if err != nil {
					t.Fatal(err)
				}
				if plan, err = engine.Diff(p, images, obs, tt.opts); err != nil {
					t.Fatal(err)
				}
			}
			if plan.Graph, err = d.Operations(plan); err != nil {
				t.Fatal(err)
			}
			got, err := plan.JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "ops", tt.name+".json"), append(got, '\n'))
		})
	}
}

// pinnedProject loads yaml as project shop with every image resolved to a
// digest (over images), as Resolve leaves it.
func pinnedProject(t *testing.T, yaml string, images map[string]string) *manifest.Project {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: "shop", Env: []string{"TOKEN=one", "OTHER=two"}})
	if err != nil {
		t.Fatal(err)
	}
	pins := pinned(p.Project)
	for k, v := range images {
		pins[k] = v
	}
	for name, s := range p.Project.Services {
		s.Image = pins[name]
		p.Project.Services[name] = s
	}
	return p
}

// deployed is what a manager holds once p is up: each service created from
// Map's spec, converged (but short, a task short of its replicas), its
// network, secrets and configs there.
func deployed(t *testing.T, p *manifest.Project, short string) *Observed {
	t.Helper()
	desired, err := Map(p.Project, Options{Images: placeholders(p, nil)})
	if err != nil {
		t.Fatal(err)
	}
	o := &Observed{}
	for _, s := range desired.Services {
		n := uint64(1)
		if r := s.Spec.Mode.Replicated; r != nil {
			n = *r.Replicas
		}
		st := &swarm.ServiceStatus{RunningTasks: n, DesiredTasks: n}
		if s.Job {
			st = &swarm.ServiceStatus{CompletedTasks: n}
		}
		if s.Name == short {
			st.RunningTasks--
		}
		o.Services = append(o.Services, observeService(swarm.Service{ID: s.Name + "-id", Meta: swarm.Meta{Version: swarm.Version{Index: 10}}, Spec: s.Spec, ServiceStatus: st}))
	}
	for _, n := range desired.Networks {
		o.Networks = append(o.Networks, ObservedNetwork{ID: n.Key + "-id", Name: n.Name, Key: n.Key, Hash: n.Spec.Labels[engine.LabelConfigHash], Driver: "overlay"})
	}
	for _, x := range desired.Secrets {
		o.Secrets = append(o.Secrets, ObservedObject{ID: x.Key + "-id", Name: x.Name, Key: x.Key})
	}
	for _, x := range desired.Configs {
		o.Configs = append(o.Configs, ObservedObject{ID: x.Key + "-id", Name: x.Name, Key: x.Key})
	}
	return o
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run with -update and read the diff):\n%s", path, got)
	}
}
