package deploy

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

const shop = `
services:
  web:
    image: web:1
    depends_on: [cache]
  cache:
    image: cache:1
`

// noImages makes every image ready without an engine: none has an ID.
func noImages(context.Context, *manifest.Project, []string, image.EnsureOptions) (map[string]string, error) {
	return map[string]string{}, nil
}

// deployed returns a memory engine that runs p as `up` leaves it.
func deployed(t *testing.T, p *manifest.Project) *enginetest.Memory {
	t.Helper()
	m := &enginetest.Memory{}
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	m.Observes, m.Applied = 0, 0
	return m
}

// A project's first up takes the lock, observes again under it, finds the
// engine as planned, and carries the plan out; the loaded project is left
// as loaded (the addresses are injected into a copy).
func TestUpTakesTheLockAndConverges(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := &enginetest.Memory{}
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := m.AcquiredLocks(); got != 1 {
		t.Errorf("%d locks taken, want 1", got)
	}
	if m.Observes != 2 {
		t.Errorf("%d observes, want 2 (the plan, and again under the lock)", m.Observes)
	}
	if n := len(m.State().Services); n != 2 {
		t.Errorf("%d services after up, want 2", n)
	}
	if env := p.Project.Services["web"].Environment; env["CACHE_HOST"] != nil {
		t.Errorf("up injected into the loaded project: %v", env)
	}
	if free, _ := m.Locks().Free(t.Context(), "shop"); !free {
		t.Error("the lock is still held after up")
	}
}

// An up that changes nothing takes no lock and makes no call.
func TestNoopUpTakesNoLock(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := deployed(t, p)
	before := m.AcquiredLocks()
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := m.AcquiredLocks() - before; got != 0 {
		t.Errorf("a no-op up took the lock %d times", got)
	}
	if m.Applied != 0 {
		t.Errorf("a no-op up made %d calls", m.Applied)
	}
}

// When the engine moved between the plan and the lock (another run
// removed a service), the plan is made again under the lock, from a fresh
// copy of the project, and what the other run removed comes back.
func TestUpPlansAgainWhenTheEngineMoved(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := deployed(t, p)
	// A changed web: the plan recreates web only.
	changed := enginetest.Load(t, "shop", strings.Replace(shop, "web:1", "web:2", 1))
	m.BeforeObserve = func(n int, m *enginetest.Memory) {
		if n == 2 { // under the lock: another run removed cache meanwhile
			s := m.State()
			s.Services = slices.DeleteFunc(s.Services, func(s engine.ServiceState) bool { return s.Name == "cache" })
			m.Set(s)
		}
	}
	if err := New(m, noImages).Up(t.Context(), changed, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if m.Observes != 3 {
		t.Errorf("%d observes, want 3: plan, again under the lock, and the new plan's", m.Observes)
	}
	services := map[string]bool{}
	for _, s := range m.State().Services {
		services[s.Name] = s.Running > 0
	}
	if !services["cache"] || !services["web"] {
		t.Errorf("after up the engine runs %v, want cache and web", services)
	}
	if changed.Project.Services["web"].Environment["CACHE_HOST"] != nil {
		t.Error("planning again injected into the loaded project")
	}
}

// While another run holds the lock, an up that must change something
// waits up to its wait, then fails with lock.ErrHeld naming the holder,
// having changed nothing.
func TestUpWaitsForTheLock(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := &enginetest.Memory{}
	m.Hold("shop", "stack up (the other run)")
	err := New(m, noImages).Up(t.Context(), p, UpOptions{Lock: LockOptions{Wait: 20 * time.Millisecond}})
	if !errors.Is(err, lock.ErrHeld) || !strings.Contains(err.Error(), "the other run") {
		t.Fatalf("up under another's lock: %v, want ErrHeld naming the holder", err)
	}
	if m.Applied != 0 || len(m.State().Services) != 0 {
		t.Errorf("up changed the engine without the lock: %d calls", m.Applied)
	}
	// Once it is let go, the same up goes through.
	m.Let("shop")
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A driver that cannot create without starting is refused before anything
// is planned or changed, naming the verb and the orchestrator.
func TestCreateRefusedByADriverThatCannot(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := &enginetest.Memory{}
	err := New(m, noImages).Up(t.Context(), p, UpOptions{Create: true})
	if !errors.Is(err, engine.ErrUnsupported) || !strings.Contains(err.Error(), "create") || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("create on the memory driver: %v, want ErrUnsupported naming create and memory", err)
	}
	if m.Observes != 0 || m.AcquiredLocks() != 0 {
		t.Errorf("a refused create observed %d times and took %d locks", m.Observes, m.AcquiredLocks())
	}
}

// Down holds the lock and removes what up made.
func TestDownRemovesUnderTheLock(t *testing.T) {
	p := enginetest.Load(t, "shop", shop)
	m := deployed(t, p)
	before := m.AcquiredLocks()
	if err := New(m, noImages).Down(t.Context(), p, DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if m.AcquiredLocks()-before != 1 {
		t.Error("down did not take the lock")
	}
	if s := m.State(); len(s.Services) != 0 || len(s.Networks) != 0 {
		t.Errorf("left after down: services %v, networks %v", s.Services, s.Networks)
	}
}

// An up of a release lock pins every service to the lock's digest, and its
// outcome is recorded in the environment's release store.
func TestUpOfAReleaseIsPinnedAndRecorded(t *testing.T) {
	p := enginetest.LoadEnv(t, "shop", shop+`
x-stack:
  environments:
    prod: {registry: 127.0.0.1:5999/shop}
`, "prod")
	mh, err := registry.HashManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	digest := "@sha256:" + strings.Repeat("a", 64)
	l := &registry.Lock{Version: registry.LockVersion, Project: p.Name, Environment: "prod", Tag: "v1", Created: time.Now().UTC(), Manifest: mh,
		Services: map[string]registry.ServiceImage{"web": {Image: "127.0.0.1:5999/shop/web" + digest}, "cache": {Image: "127.0.0.1:5999/shop/cache" + digest}}}
	store := registry.Store{Dir: registry.DefaultStoreDir(p.WorkingDir)}
	if _, err := store.Save(l); err != nil {
		t.Fatal(err)
	}
	m := &enginetest.Memory{}
	var pinned []string
	ensure := func(_ context.Context, p *manifest.Project, _ []string, _ image.EnsureOptions) (map[string]string, error) {
		for _, name := range p.ServiceNames() {
			pinned = append(pinned, p.Project.Services[name].Image)
		}
		return map[string]string{}, nil
	}
	if err := New(m, ensure).Up(t.Context(), p, UpOptions{Release: registry.CurrentLock}); err != nil {
		t.Fatal(err)
	}
	for _, img := range pinned {
		if !strings.HasSuffix(img, digest) {
			t.Errorf("an up of the release ran %s, not the lock's digest", img)
		}
	}
	deploys, err := store.LastDeploys("prod")
	if err != nil || len(deploys) != 1 {
		t.Fatalf("recorded deploys %v, %v; want the one up made", deploys, err)
	}
	for _, d := range deploys {
		if d.Error != "" {
			t.Errorf("the deploy is recorded as failed: %s", d.Error)
		}
	}
}

const withPhase = shop + `
x-stack:
  release:
    before: [{service: web, command: [migrate]}]
    after: [{service: web, command: [warm]}]
`

// The release phase: before runs once, after web's dependency converged
// and before web exists; after runs once every service is ready; an up
// that changes nothing runs neither, unless forced.
func TestReleasePhaseRunsAroundTheChange(t *testing.T) {
	p := enginetest.Load(t, "shop", withPhase)
	m := &enginetest.Memory{}
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"web: migrate (0 replicas)", "web: warm (1 replicas)"}
	if !slices.Equal(m.Runs, want) {
		t.Errorf("ran %v, want %v", m.Runs, want)
	}
	services := map[string]bool{}
	for _, s := range m.State().Services {
		services[s.Name] = s.Running > 0
	}
	if !services["cache"] || !services["web"] {
		t.Errorf("after up the engine runs %v", services)
	}
	m.Runs = nil
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{}); err != nil || len(m.Runs) != 0 {
		t.Errorf("a no-op up ran %v (%v), want nothing", m.Runs, err)
	}
	locks := m.AcquiredLocks()
	if err := New(m, noImages).Up(t.Context(), p, UpOptions{Phase: PhaseOptions{Force: true}}); err != nil || len(m.Runs) != 2 {
		t.Errorf("a forced phase ran %v (%v), want both steps", m.Runs, err)
	}
	if m.AcquiredLocks() == locks {
		t.Error("the forced phase ran without the lock")
	}
}

// A before step that fails ends the up naming it and its code, with
// nothing of the service changed.
func TestFailingBeforeStepChangesNothing(t *testing.T) {
	p := enginetest.Load(t, "shop", withPhase)
	m := deployed(t, p)
	before := m.State()
	m.Exit = map[string]int{"migrate": 3}
	changed := enginetest.Load(t, "shop", strings.Replace(withPhase, "web:1", "web:2", 1))
	err := New(m, noImages).Up(t.Context(), changed, UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "web: migrate") || !strings.Contains(err.Error(), "code 3") {
		t.Fatalf("up with a failing migration: %v, want an error naming the step and its code", err)
	}
	if !reflect.DeepEqual(m.State().Services, before.Services) {
		t.Errorf("the failing step's up changed the services")
	}
}
