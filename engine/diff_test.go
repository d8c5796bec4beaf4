package engine_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
	"github.com/stack-deploy/stack/manifest"
)

// load loads an inline compose file as project "shop".
func load(t *testing.T, yaml string) *manifest.Project {
	t.Helper()
	return enginetest.Load(t, "shop", yaml)
}

// deployed is what the engine holds after `up` of yaml with images.
func deployed(t *testing.T, yaml string, images engine.Images) *engine.Observed {
	t.Helper()
	return enginetest.Deployed(t, load(t, yaml), images)
}

const seed = `
volumes:
  data: {}
services:
  app:
    image: app:1
    environment:
      REDIS_HOST: redis
      REDIS_PORT: "6379"
    depends_on:
      redis: {condition: service_healthy}
    ports: ["8080:80"]
  redis:
    image: redis:7-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
    volumes: ["data:/data"]
`

var seedImages = engine.Images{"app": {ID: "sha256:a1"}, "redis": {ID: "sha256:r1"}}

func TestDiff(t *testing.T) {
	tests := []struct {
		name         string
		before       string // deployed manifest; empty: nothing deployed
		beforeImages engine.Images
		after        string
		afterImages  engine.Images
		opts         engine.DiffOptions
		want         string
	}{
		{
			name:  "new stack",
			after: seed, afterImages: seedImages,
			want: `
network:default  create  new network
volume:data      create  new volume
service:redis    create  new service
service:app      create  new service
`,
		},
		{
			name:   "nothing changed",
			before: seed, beforeImages: seedImages,
			after: seed, afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name:   "environment change recreates only that service",
			before: seed, beforeImages: seedImages,
			after: strings.Replace(seed, "REDIS_HOST: redis", "REDIS_HOST: redis\n      LOG: debug", 1), afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      recreate   environment changed
`,
		},
		{
			name:   "rebuilt image recreates its service",
			before: seed, beforeImages: seedImages,
			after: seed, afterImages: engine.Images{"app": {ID: "sha256:a2"}, "redis": {ID: "sha256:r1"}},
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      recreate   image changed
`,
		},
		{
			name:   "image name change",
			before: seed, beforeImages: seedImages,
			after: strings.Replace(seed, "image: app:1", "image: app:2", 1), afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      recreate   image changed
`,
		},
		{
			name:   "dependency address change recreates the dependant",
			before: seed, beforeImages: seedImages,
			after: strings.Replace(seed, `REDIS_PORT: "6379"`, `REDIS_PORT: "6380"`, 1), afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      recreate   environment changed
`,
		},
		{
			name:   "orphan is kept and warned about",
			before: seed + "  old:\n    image: busybox:stable\n", beforeImages: seedImages,
			after: seed, afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      unchanged
service:old      unchanged  orphan: not in the manifest; --remove-orphans removes it
`,
		},
		{
			name:   "orphan removed with --remove-orphans",
			before: seed + "  old:\n    image: busybox:stable\n", beforeImages: seedImages,
			after: seed, afterImages: seedImages, opts: engine.DiffOptions{RemoveOrphans: true},
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      unchanged
service:old      remove     orphan: not in the manifest
`,
		},
		{
			name:   "a changed volume definition is kept and warned about",
			before: seed, beforeImages: seedImages,
			after: strings.Replace(seed, "  data: {}", "  data: {labels: {backup: daily}}", 1), afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged  definition changed; kept with its data: ` + "`stack down -v` then `stack up`" + ` applies it
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name:   "scale up keeps the running replica",
			before: seed, beforeImages: seedImages,
			after: strings.Replace(seed, "image: app:1", "image: app:1\n    scale: 3", 1), afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      scale      scale 1 -> 3
`,
		},
		{
			name:   "scale down",
			before: strings.Replace(seed, "image: app:1", "image: app:1\n    scale: 3", 1), beforeImages: seedImages,
			after: seed, afterImages: seedImages,
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      scale      scale 3 -> 1
`,
		},
		{
			name:   "force recreate",
			before: seed, beforeImages: seedImages,
			after: seed, afterImages: seedImages, opts: engine.DiffOptions{ForceRecreate: true},
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    recreate   forced by --force-recreate
service:app      recreate   forced by --force-recreate
`,
		},
		{
			name:   "no recreate keeps a changed container",
			before: seed, beforeImages: seedImages,
			after: seed, afterImages: engine.Images{"app": {ID: "sha256:a2"}, "redis": {ID: "sha256:r1"}}, opts: engine.DiffOptions{NoRecreate: true},
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name:   "restart: true restarts the dependant of a recreated service",
			before: strings.Replace(seed, "condition: service_healthy", "condition: service_healthy, restart: true", 1), beforeImages: seedImages,
			after:       strings.Replace(seed, "condition: service_healthy", "condition: service_healthy, restart: true", 1),
			afterImages: engine.Images{"app": {ID: "sha256:a1"}, "redis": {ID: "sha256:r2"}},
			want: `
network:default  unchanged
volume:data      unchanged
service:redis    recreate   image changed
service:app      restart    dependency redis recreated
`,
		},
		{
			name:  "selected service brings its dependencies",
			after: seed + "  worker:\n    image: busybox:stable\n", afterImages: seedImages, opts: engine.DiffOptions{Services: []string{"app"}},
			want: `
network:default  create  new network
volume:data      create  new volume
service:redis    create  new service
service:app      create  new service
`,
		},
		{
			name:  "--no-deps leaves the dependencies out",
			after: seed, afterImages: seedImages, opts: engine.DiffOptions{Services: []string{"app"}, NoDeps: true},
			want: `
network:default  create  new network
service:app      create  new service
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obs *engine.Observed
			if tt.before != "" {
				obs = deployed(t, tt.before, tt.beforeImages)
			}
			plan, err := engine.Diff(load(t, tt.after), tt.afterImages, obs, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := plan.Text(), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestDiffServiceStates(t *testing.T) {
	for _, tt := range []struct {
		name  string
		state func(*engine.ServiceState)
		want  string
	}{
		{"exited", func(s *engine.ServiceState) { s.Running, s.Completed, s.Stopped = 0, 1, "exited with code 0" }, "service:redis    start      exited with code 0"},
		{"paused", func(s *engine.ServiceState) { s.Running, s.Stopped = 0, "paused" }, "service:redis    start      paused"},
		{"broken", func(s *engine.ServiceState) {
			s.Running, s.Stopped, s.Broken = 0, "dead, not running", "container is dead"
		}, "service:redis    recreate   container is dead"},
		{"drift", func(s *engine.ServiceState) { s.Drift = "not connected to network shop_default" }, "service:redis    repair     not connected to network shop_default"},
		{"foreign", func(s *engine.ServiceState) { s.Foreign = "created by Docker Compose" }, "service:redis    recreate   created by Docker Compose"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obs := deployed(t, seed, seedImages)
			tt.state(obs.Service("redis"))
			plan, err := engine.Diff(load(t, seed), seedImages, obs, engine.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.Text(), tt.want+"\n") {
				t.Errorf("plan:\n%s\nwant the line %q", plan.Text(), tt.want)
			}
		})
	}
}

func TestDiffMixedReplicasGiveTheReasonOfTheAction(t *testing.T) {
	scaled := strings.Replace(seed, "image: app:1", "image: app:1\n    scale: 2", 1)
	obs := deployed(t, scaled, seedImages)
	app := obs.Service("app")
	v := app.Versions[0]
	app.Versions = []engine.Version{{Hash: v.Hash, Parts: v.Parts, Count: 1}, {Hash: "old", Parts: v.Parts, Count: 1}}
	app.Running, app.Stopped = 1, "exited with code 0"
	plan, err := engine.Diff(load(t, scaled), seedImages, obs, engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "service:app      recreate   configuration changed\n"; !strings.Contains(plan.Text(), want) {
		t.Errorf("plan:\n%s\nwant %q", plan.Text(), want)
	}
}

// scale: 0 with no container is converged: plan has nothing to do.
func TestDiffScaleZeroConverges(t *testing.T) {
	const yaml = "services:\n  worker: {image: busybox, scale: 0}\n"
	plan, err := engine.Diff(load(t, yaml), engine.Images{"worker": {ID: "sha256:1"}}, deployed(t, yaml, engine.Images{"worker": {ID: "sha256:1"}}), engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := plan.Action("service:worker"); a == nil || a.Kind != engine.Unchanged {
		t.Errorf("worker: %+v, want unchanged", a)
	}
}

// TestDiffTakesTheDriversHash: a driver's own hash (Image.Hash, see
// Hasher) decides whether a service changed, and its parts name what did.
func TestDiffTakesTheDriversHash(t *testing.T) {
	p := load(t, seed)
	obs := deployed(t, seed, seedImages)
	for i := range obs.Services {
		obs.Services[i].Versions = []engine.Version{{Hash: "spec-1", Parts: "image=aa,secrets=bb", Count: obs.Services[i].Replicas}}
	}
	images := engine.Images{}
	for name, img := range seedImages {
		img.Hash = &engine.Hash{Sum: "spec-1", Parts: map[string]string{"image": "aa", "secrets": "bb"}}
		images[name] = img
	}
	plan, err := engine.Diff(p, images, obs, engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changes() != 0 {
		t.Fatalf("the driver's hash is unchanged, yet:\n%s", plan.Text())
	}
	images["app"].Hash.Sum, images["app"].Hash.Parts["secrets"] = "spec-2", "cc"
	if plan, err = engine.Diff(p, images, obs, engine.DiffOptions{}); err != nil {
		t.Fatal(err)
	}
	if a := plan.Action("service:app"); a.Kind != engine.Recreate || a.Reason != "secrets changed" || a.ConfigHash != "spec-2" {
		t.Errorf("app: %s %q hash %s, want recreate \"secrets changed\" with the driver's hash", a.Kind, a.Reason, a.ConfigHash)
	}
}

// What finishing means for a service follows the strongest condition its
// dependants wait with, whatever their order: completed over healthy over
// started; its own healthcheck makes it healthy.
func TestDiffReadinessFollowsTheDependants(t *testing.T) {
	yaml := `
services:
  migrate: {image: app:1}
  db: {image: app:1}
  cache: {image: app:1, healthcheck: {test: ["CMD", "true"]}}
  plain: {image: app:1}
  a:
    image: app:1
    depends_on: {migrate: {condition: service_healthy}, db: {condition: service_healthy}, plain: {condition: service_started}}
  b:
    image: app:1
    depends_on: {migrate: {condition: service_completed_successfully}, cache: {condition: service_started}}
`
	plan, err := engine.Diff(load(t, yaml), nil, &engine.Observed{}, engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]engine.Condition{
		"migrate": engine.Completed, "db": engine.Healthy, "cache": engine.Healthy, "plain": engine.Started, "a": engine.Started,
	} {
		if got := plan.Action("service:" + svc).Ready; got != want {
			t.Errorf("%s ready %q, want %q", svc, got, want)
		}
	}
}

// The recreate flags act as Compose's: --force-recreate on the named
// services (all when none is named), --always-recreate-deps on the
// dependencies converged with them, --no-recreate on every service.
func TestDiffRecreatePolicies(t *testing.T) {
	changedRedis := engine.Images{"app": seedImages["app"], "redis": {ID: "sha256:r2"}}
	for _, tt := range []struct {
		name   string
		images engine.Images
		opts   engine.DiffOptions
		want   map[string]engine.Kind
	}{
		{"force, none named", seedImages, engine.DiffOptions{ForceRecreate: true},
			map[string]engine.Kind{"app": engine.Recreate, "redis": engine.Recreate}},
		{"force the named only", seedImages, engine.DiffOptions{Services: []string{"app"}, ForceRecreate: true},
			map[string]engine.Kind{"app": engine.Recreate, "redis": engine.Unchanged}},
		{"always recreate deps", seedImages, engine.DiffOptions{Services: []string{"app"}, RecreateDeps: true},
			map[string]engine.Kind{"app": engine.Unchanged, "redis": engine.Recreate}},
		{"a dependency that changed is recreated anyway", changedRedis, engine.DiffOptions{Services: []string{"app"}, ForceRecreate: true},
			map[string]engine.Kind{"app": engine.Recreate, "redis": engine.Recreate}},
		{"no recreate keeps what changed", changedRedis, engine.DiffOptions{NoRecreate: true},
			map[string]engine.Kind{"app": engine.Unchanged, "redis": engine.Unchanged}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := engine.Diff(load(t, seed), tt.images, deployed(t, seed, seedImages), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for service, kind := range tt.want {
				if a := plan.Action("service:" + service); a == nil || a.Kind != kind {
					t.Errorf("%s: want %s in:\n%s", service, kind, plan.Text())
				}
			}
		})
	}
}
