package docker

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
	"github.com/stack-deploy/stack/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// opsSeed has a dependency with a healthcheck, a volume, and a service on
// two networks (API 1.41: the second is connected after creation).
const opsSeed = `
services:
  app:
    image: app:1
    environment: {MODE: a}
    depends_on:
      redis: {condition: service_healthy}
    networks: [default, back]
  redis:
    image: redis:7-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
    volumes: ["data:/data"]
networks:
  back: {}
volumes:
  data: {}
`

var opsImages = engine.Images{"app": {ID: "sha256:a1"}, "redis": {ID: "sha256:r1"}}

// TestOperationsGolden pins the operation graph (`stack plan --format json`)
// for each kind of change: the engine calls, their order and what undoes
// them. Run with -update to rewrite testdata/ops/*.json after a deliberate
// change, and read the diff.
func TestOperationsGolden(t *testing.T) {
	d, err := New(WithClient(&fakeClient{}))
	if err != nil {
		t.Fatal(err)
	}
	restart := strings.Replace(opsSeed, "condition: service_healthy}", "condition: service_healthy, restart: true}", 1)
	// app behind the gateway: replaced start-first.
	routed := strings.Replace(opsSeed, "    networks: [default, back]\n", "    networks: [default, back]\n    x-stack:\n      route: {path: /, port: 80}\n", 1) +
		"x-stack:\n  gateway:\n    ports: [\"80:80\"]\n"
	// three app replicas, one at a time, 5 s apart, the rest left alone after a failure.
	batches := strings.Replace(opsSeed, "    networks: [default, back]\n", "    networks: [default, back]\n    scale: 3\n    deploy:\n      update_config: {parallelism: 1, delay: 5s, failure_action: pause}\n", 1)
	motd := func(text string) string {
		return strings.Replace(opsSeed, "    environment: {MODE: a}\n", "    environment: {MODE: a}\n    configs: [{source: motd, target: /etc/motd}]\n", 1) +
			"configs:\n  motd: {content: " + text + "}\n"
	}
	tests := []struct {
		name         string
		before       string // deployed; empty: nothing
		beforeImages engine.Images
		after        string
		afterImages  engine.Images
		opts         engine.DiffOptions
		down         bool
		compose      bool // before was deployed by Docker Compose
	}{
		{name: "new", after: opsSeed},
		{name: "env-change", before: opsSeed, after: strings.Replace(opsSeed, "MODE: a", "MODE: b", 1)},
		{name: "image-change", before: opsSeed, after: opsSeed, afterImages: engine.Images{"app": {ID: "sha256:a2"}, "redis": {ID: "sha256:r1"}}},
		{name: "scale-up", before: opsSeed, after: strings.Replace(opsSeed, "image: app:1", "image: app:1\n    scale: 3", 1)},
		{name: "scale-down", before: strings.Replace(opsSeed, "image: app:1", "image: app:1\n    scale: 3", 1), after: opsSeed},
		{name: "orphan", before: strings.Replace(opsSeed, "services:\n", "services:\n  old:\n    image: busybox:stable\n", 1), after: opsSeed, opts: engine.DiffOptions{RemoveOrphans: true}},
		{name: "restart-dependency", before: restart, after: restart, afterImages: engine.Images{"app": {ID: "sha256:a1"}, "redis": {ID: "sha256:r2"}}},
		{name: "down", before: opsSeed, after: opsSeed, down: true},
		{name: "gateway-new", after: routed},
		{name: "gateway-start-first", before: routed, after: strings.Replace(routed, "MODE: a", "MODE: b", 1)},
		{name: "update-batches", before: batches, after: strings.Replace(batches, "MODE: a", "MODE: b", 1)},
		{name: "atomic", before: opsSeed, after: opsSeed, afterImages: engine.Images{"app": {ID: "sha256:a2"}, "redis": {ID: "sha256:r2"}}, opts: engine.DiffOptions{Atomic: true}},
		{name: "config-new", after: motd("hello")},
		{name: "config-change", before: motd("hello"), after: motd("bye")},
		{name: "compose-takeover", before: opsSeed, after: opsSeed, compose: true},
		{name: "compose-down", before: opsSeed, after: opsSeed, compose: true, down: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.beforeImages == nil {
				tt.beforeImages = opsImages
			}
			if tt.afterImages == nil {
				tt.afterImages = opsImages
			}
			obs := &engine.Observed{}
			if tt.before != "" {
				obs = deployed(t, enginetest.Load(t, "shop", tt.before), tt.beforeImages, tt.compose)
			}
			p := enginetest.Load(t, "shop", tt.after)
			var plan *engine.Plan
			if tt.down {
				plan = engine.Down(p, obs, engine.DownOptions{Volumes: true})
			} else if plan, err = engine.Diff(p, tt.afterImages, obs, tt.opts); err != nil {
				t.Fatal(err)
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

// deployed is what this driver observes after `up` of p with images (with
// compose, as Docker Compose leaves it: every container, network and
// volume Compose's, without stack's hashes).
func deployed(t *testing.T, p *manifest.Project, images engine.Images, compose bool) *engine.Observed {
	cs := enginetest.Containers(t, p, images)
	d := enginetest.Deployed(t, p, images)
	if compose {
		for i := range cs {
			cs[i].Compose, cs[i].Hash, cs[i].Parts = true, "", ""
		}
		for _, rs := range [][]engine.Resource{d.Networks, d.Volumes} {
			for i := range rs {
				rs[i].Compose, rs[i].Hash = true, ""
			}
		}
	}
	obs := observed(p, cs)
	obs.Networks, obs.Volumes = d.Networks, d.Volumes
	return obs
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
