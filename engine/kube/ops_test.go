package kube

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// opsCompose: db with a claim per replica, migrate that web waits to
// complete (a Job), web depending on db started, with a config.
const opsCompose = `
name: shop
services:
  db:
    image: redis:7-alpine
    volumes: [data:/data]
  migrate:
    image: busybox:stable
    command: ["true"]
  web:
    image: busybox:stable
    command: [sleep, "3600"]
    configs: [conf]
    depends_on:
      db: {condition: service_started}
      migrate: {condition: service_completed_successfully}
configs:
  conf: {content: "hello"}
volumes:
  data: {}
`

// TestOperationsGolden: the operations of a new project, of a change to
// it, and of down -v, as recorded in testdata/ops/*.json (-update
// rewrites them). Observed states are what Observe makes of a cluster.
func TestOperationsGolden(t *testing.T) {
	p, images, objs := mapped(t, opsCompose)
	d := &Driver{}
	hash := map[string]string{}
	for _, s := range objs.Services {
		hash[s.Name] = s.Hash.Sum
	}
	running := &Cluster{Namespace: "shop", Workloads: map[string]Workload{
		"db":      {Kind: StatefulSet, Name: "db", Hash: hash["db"], Replicas: 1, Ready: 1},
		"migrate": {Kind: Job, Name: "migrate", Hash: hash["migrate"], Replicas: 1, Succeeded: 1},
		"web":     {Kind: Deployment, Name: "web", Hash: "old", Replicas: 1, Ready: 1},
	}, Claims: map[string][]string{"data": {"data-db-0"}}, Objects: []Object{
		{Kind: "ConfigMap", Name: "conf"}, {Kind: "ConfigMap", Name: "gone"}, {Kind: "Secret", Name: ApplySetParent},
		{Kind: "PersistentVolumeClaim", Name: "data-db-0", Service: "db"},
		{Kind: "Service", Name: "db", Service: "db", Headless: true}, {Kind: "Service", Name: "migrate", Service: "migrate", Headless: true},
		{Kind: "Service", Name: "web", Service: "web", Headless: true},
		{Kind: "StatefulSet", Name: "db", Service: "db"}, {Kind: "Job", Name: "migrate", Service: "migrate"}, {Kind: "Deployment", Name: "web", Service: "web"},
	}}
	tests := []struct {
		name string
		plan func() *engine.Plan
	}{
		{"new", func() *engine.Plan {
			plan, err := engine.Diff(p, images, observed(p, &Cluster{Namespace: "shop", Workloads: map[string]Workload{}, Claims: map[string][]string{}}), engine.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return plan
		}},
		{"changed", func() *engine.Plan {
			plan, err := engine.Diff(p, images, observed(p, running), engine.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return plan
		}},
		{"down-v", func() *engine.Plan {
			return engine.Down(p, observed(p, running), engine.DownOptions{Volumes: true})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := tt.plan()
			g, err := d.Operations(plan)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(struct {
				Plan []string     `json:"plan"`
				Ops  []*engine.Op `json:"operations"`
			}{lines(plan.Text()), g.Ops}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "ops", tt.name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != string(got)+"\n" {
				t.Errorf("operations differ from %s (-update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
