// Package contracttest is the contract every engine.Driver passes: one table
// of scenarios (a new project, nothing changed, a configuration change,
// scaling up and down, an orphan, a failure mid-way, an interruption
// mid-way, drift, down), each driven through the driver as `stack up` and
// `stack down` drive it, and checked against what the engine then holds.
// Each driver's end-to-end tests run it against a real engine.
//
// It is for tests only.
package contracttest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Harness is what a driver's test gives the contract.
type Harness struct {
	Driver engine.Driver
	// Image is the image every scenario's services run: it has sh, sleep,
	// true and false (busybox).
	Image string
	// Extra is added to every service (e.g. deploy.endpoint_mode: dnsrr
	// where the engine has no VIP load balancing); lines indented for a
	// service's fields.
	Extra string
	// Project returns a unique project name and removes what the project
	// left on the engine when t ends.
	Project func(t *testing.T) string
	// Images returns what the plan knows of p's images.
	Images func(t *testing.T, p *manifest.Project) engine.Images
	// Running counts the containers (or tasks) of service that run.
	Running func(t *testing.T, project, service string) int
	// Drift changes a converged project behind the driver's back, so that
	// the next plan must put something right.
	Drift func(t *testing.T, project string)
}

// compose is the scenarios' project: db, and web depending on it.
const compose = `
services:
  db:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
EXTRA
  web:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
    environment: {GEN: "1"}
    depends_on: [db]
EXTRA
`

// Run runs every scenario of the contract against h's driver.
func Run(t *testing.T, h Harness) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := &runner{h: h, project: h.Project(t)}
			sc.run(t, r)
			r.down(t)
		})
	}
}

var scenarios = []struct {
	name string
	run  func(t *testing.T, r *runner)
}{
	{"new", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		r.running(t, map[string]int{"db": 1, "web": 1})
		r.converged(t, compose)
	}},
	{"unchanged", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		plan := r.plan(t, compose, engine.DiffOptions{})
		if plan.Changes() != 0 || len(plan.Graph.Ops) != 0 {
			t.Fatalf("a second up would change:\n%s%d operations", plan.Text(), len(plan.Graph.Ops))
		}
	}},
	{"config change", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		changed := strings.Replace(compose, `GEN: "1"`, `GEN: "2"`, 1)
		plan := r.plan(t, changed, engine.DiffOptions{})
		kinds(t, plan, map[string]engine.Kind{"service:db": engine.Unchanged, "service:web": engine.Recreate})
		r.apply(t, plan)
		r.running(t, map[string]int{"db": 1, "web": 1})
		r.converged(t, changed)
	}},
	{"scale up and down", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		three := strings.Replace(compose, `GEN: "1"}`, "GEN: \"1\"}\n    scale: 3", 1)
		plan := r.plan(t, three, engine.DiffOptions{})
		kinds(t, plan, map[string]engine.Kind{"service:web": engine.Scale})
		r.apply(t, plan)
		r.running(t, map[string]int{"web": 3})
		r.converged(t, three)
		r.up(t, compose, engine.DiffOptions{})
		r.running(t, map[string]int{"web": 1})
		r.converged(t, compose)
	}},
	{"orphan", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		dbOnly := compose[:strings.Index(compose, "  web:")]
		plan := r.plan(t, dbOnly, engine.DiffOptions{})
		if a := plan.Action("service:web"); a == nil || !a.Orphan || a.Kind != engine.Unchanged {
			t.Fatalf("without --remove-orphans web is kept as an orphan:\n%s", plan.Text())
		}
		plan = r.plan(t, dbOnly, engine.DiffOptions{RemoveOrphans: true})
		kinds(t, plan, map[string]engine.Kind{"service:web": engine.Remove})
		r.apply(t, plan)
		r.running(t, map[string]int{"db": 1, "web": 0})
	}},
	{"failure mid-way", func(t *testing.T, r *runner) {
		// bad exits 1; late waits for it to complete and is skipped; solo,
		// independent, runs. Fixed, the next up converges.
		failing := compose + `
  bad:
    image: IMAGE
    command: ["false"]
EXTRA
  late:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
    depends_on:
      bad: {condition: service_completed_successfully}
EXTRA
  solo:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
EXTRA
`
		if err := r.tryUp(t, failing, engine.DiffOptions{}); err == nil {
			t.Fatal("up succeeded with a dependency that exits 1")
		}
		r.running(t, map[string]int{"late": 0, "solo": 1, "web": 1})
		fixed := strings.Replace(failing, `command: ["false"]`, `command: ["true"]`, 1)
		r.up(t, fixed, engine.DiffOptions{})
		r.running(t, map[string]int{"late": 1, "solo": 1})
		r.converged(t, fixed)
	}},
	{"interrupted mid-way", func(t *testing.T, r *runner) {
		// Cancelled once the first operation is done: the run stops with
		// context.Canceled, and the next up converges.
		p := r.load(t, compose)
		plan := r.planFor(t, p, engine.DiffOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var once sync.Once
		sink := progress.SinkFunc(func(e progress.Event) {
			if e.Op != "" && e.Status == progress.Done {
				once.Do(cancel)
			}
		})
		err := engine.Apply(progress.WithSink(ctx, sink), r.h.Driver, plan, engine.ApplyOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted up: %v, want context.Canceled", err)
		}
		r.up(t, compose, engine.DiffOptions{})
		r.running(t, map[string]int{"db": 1, "web": 1})
		r.converged(t, compose)
	}},
	{"drift", func(t *testing.T, r *runner) {
		r.up(t, compose, engine.DiffOptions{})
		r.h.Drift(t, r.project)
		if plan := r.plan(t, compose, engine.DiffOptions{}); plan.Changes() == 0 {
			t.Fatalf("the plan after drift changes nothing:\n%s", plan.Text())
		}
		r.up(t, compose, engine.DiffOptions{})
		r.converged(t, compose)
	}},
}

type runner struct {
	h       Harness
	project string
}

func (r *runner) load(t *testing.T, yaml string) *manifest.Project {
	t.Helper()
	yaml = strings.NewReplacer("IMAGE", r.h.Image, "EXTRA\n", r.h.Extra).Replace(yaml)
	return enginetest.Load(t, r.project, "name: "+r.project+"\n"+yaml)
}

// planFor checks, observes, diffs and plans the operations, as deploy
// does.
func (r *runner) planFor(t *testing.T, p *manifest.Project, o engine.DiffOptions) *engine.Plan {
	t.Helper()
	if _, err := r.h.Driver.Check(t.Context(), p, nil); err != nil {
		t.Fatal(err)
	}
	obs, err := r.h.Driver.Observe(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Diff(p, r.h.Images(t, p), obs, o)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Graph, err = r.h.Driver.Operations(plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

func (r *runner) plan(t *testing.T, yaml string, o engine.DiffOptions) *engine.Plan {
	t.Helper()
	return r.planFor(t, r.load(t, yaml), o)
}

func (r *runner) apply(t *testing.T, plan *engine.Plan) {
	t.Helper()
	if err := engine.Apply(t.Context(), r.h.Driver, plan, engine.ApplyOptions{}); err != nil {
		t.Fatalf("applying:\n%s%v", plan.Text(), err)
	}
}

func (r *runner) tryUp(t *testing.T, yaml string, o engine.DiffOptions) error {
	t.Helper()
	return engine.Apply(t.Context(), r.h.Driver, r.plan(t, yaml, o), engine.ApplyOptions{})
}

func (r *runner) up(t *testing.T, yaml string, o engine.DiffOptions) {
	t.Helper()
	r.apply(t, r.plan(t, yaml, o))
}

// converged checks that the plan for yaml has nothing to do.
func (r *runner) converged(t *testing.T, yaml string) {
	t.Helper()
	if plan := r.plan(t, yaml, engine.DiffOptions{}); plan.Changes() != 0 {
		t.Fatalf("not converged:\n%s", plan.Text())
	}
}

func (r *runner) running(t *testing.T, want map[string]int) {
	t.Helper()
	for service, n := range want {
		if got := r.h.Running(t, r.project, service); got != n {
			t.Errorf("%d of %s running, want %d", got, service, n)
		}
	}
}

// down removes the project as `stack down -v --remove-orphans` does and
// checks the engine holds nothing of it afterwards.
func (r *runner) down(t *testing.T) {
	t.Helper()
	p := r.load(t, compose)
	obs, err := r.h.Driver.Observe(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	plan := engine.Down(p, obs, engine.DownOptions{Volumes: true, RemoveOrphans: true})
	r.apply(t, plan)
	if obs, err = r.h.Driver.Observe(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if n := len(obs.Services) + len(obs.Networks) + len(obs.Volumes); n != 0 {
		t.Errorf("after down: %+v", obs)
	}
}

func kinds(t *testing.T, plan *engine.Plan, want map[string]engine.Kind) {
	t.Helper()
	for resource, kind := range want {
		if a := plan.Action(resource); a == nil || a.Kind != kind {
			t.Errorf("%s: want %s in:\n%s", resource, kind, plan.Text())
		}
	}
}
