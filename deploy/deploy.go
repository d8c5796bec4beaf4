// Package deploy runs the protocol of every verb that changes a project, as
// a library: for a loaded manifest (pinned to a release when asked) it
// connects to the engine of the selected environment with the driver its
// orchestrator names, checks the services against that engine, makes their
// images ready (building and pulling as asked), injects the service
// addresses into a fresh copy of the project, observes the engine once and
// diffs; takes the project's deploy lock when the plan changes something,
// observes again under it and plans again when the engine moved; applies;
// and records a release's deploy. The CLI parses flags, wires, renders and
// maps errors to exit codes; nothing of the protocol is there.
//
// It never prints: warnings are progress events, and a question for a
// person (rm's confirmation) is a callback. It holds no engine specifics:
// those are the drivers', reached through engine.Driver and its
// capabilities, and a driver is added in open.go alone.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Target is the engine a project deploys to: its driver, and what makes the
// images its services run ready for it.
type Target struct {
	Driver engine.Driver
	// Builder builds, pulls and pushes the images, on the engine itself or,
	// for a cluster, on the local one; nil for a target that builds nothing.
	Builder *image.Builder
	ensure  Ensure
	closers []io.Closer
}

// Ensure makes the images of services (all when none) ready for a driver as
// o asks, building and pulling them, and returns each service's image: its
// ID on an engine, or the repo@sha256 reference a cluster's nodes pull.
type Ensure func(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error)

// New returns the target of driver d whose images ensure makes ready: a
// driver of the tests, or one Open does not know.
func New(d engine.Driver, ensure Ensure) *Target { return &Target{Driver: d, ensure: ensure} }

// Close releases the engine connections.
func (t *Target) Close() error {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Options steer Plan, with the meaning of `stack up`'s flags.
type Options struct {
	Diff   engine.DiffOptions
	Images image.EnsureOptions
}

// Plan decides what converging p takes: the services selected, checked
// against the engine (before anything is built or pulled), their images
// ensured, the addresses injected, the engine observed once, the diff, and
// the driver's operations. p is changed (addresses injected, images
// pinned): plan from a Clone of the loaded project. Warnings about fields
// the engine cannot honour are reported for the services the plan creates
// or replaces.
func (t *Target) Plan(ctx context.Context, p *manifest.Project, o Options) (*engine.Plan, error) {
	services, err := engine.SelectServices(p, o.Diff.Services, o.Diff.NoDeps)
	if err != nil {
		return nil, err
	}
	warnings, err := t.Driver.Check(ctx, p, services)
	if err != nil {
		return nil, err
	}
	images, err := t.Prepare(ctx, p, services, o.Images)
	if err != nil {
		return nil, err
	}
	obs, err := t.Driver.Observe(ctx, p)
	if err != nil {
		return nil, err
	}
	plan, err := engine.Diff(p, images, obs, o.Diff)
	if err != nil {
		return nil, err
	}
	if plan.Graph, err = t.Driver.Operations(plan); err != nil {
		return nil, err
	}
	ReportWarnings(ctx, plan, warnings)
	return plan, nil
}

// Prepare ensures the images of services as img says and injects the
// addresses into p: what a plan and a one-off container both need. It
// returns what the plan needs of each image. A container must never get an
// unresolved {{svc.port}} template: unless img is a dry run, one is an error.
func (t *Target) Prepare(ctx context.Context, p *manifest.Project, services []string, img image.EnsureOptions) (engine.Images, error) {
	ids, err := t.ensure(ctx, p, services, img)
	if err != nil {
		return nil, err
	}
	facts, err := t.Driver.Facts(ctx, p)
	if err != nil {
		return nil, err
	}
	report, err := envinject.Apply(p, facts)
	if err != nil {
		return nil, err
	}
	if pending := report.Pending(); len(pending) > 0 && !img.DryRun {
		return nil, fmt.Errorf("%s: %w: the port is not known because that service's image is not on the engine; "+
			"deploy it too (drop --no-deps), or declare its port with expose", strings.Join(pending, ", "), envinject.ErrTemplate)
	}
	images := engine.Images{}
	for name, id := range ids {
		hc, _ := facts.ImageHealthcheck(name)
		images[name] = engine.Image{ID: id, Healthcheck: hc}
	}
	if h, ok := t.Driver.(engine.Hasher); ok {
		return h.ConfigHashes(p, images)
	}
	return images, nil
}

// ImageFacts returns what the engine says of the services' images (whether
// they declare a healthcheck), without their IDs: for the verbs that start
// what exists.
func (t *Target) ImageFacts(ctx context.Context, p *manifest.Project) (engine.Images, error) {
	facts, err := t.Driver.Facts(ctx, p)
	if err != nil {
		return nil, err
	}
	images := engine.Images{}
	for _, name := range p.ServiceNames() {
		hc, _ := facts.ImageHealthcheck(name)
		images[name] = engine.Image{Healthcheck: hc}
	}
	return images, nil
}

// Inject applies address injection to p with what t's engine knows of the
// images. When no engine answers (or t is nil), it warns and injects what
// the manifest alone says: the ports images EXPOSE are then unknown.
func Inject(ctx context.Context, t *Target, p *manifest.Project) (envinject.Report, error) {
	var facts engine.Facts
	var err error
	if t != nil {
		facts, err = t.Driver.Facts(ctx, p)
	}
	if t == nil || errors.Is(err, image.ErrNoEngine) {
		if err != nil {
			progress.Report(ctx, "engine", "inspect", progress.Warning, fmt.Sprintf("%v: the ports images EXPOSE are unknown", err), nil)
		}
		facts, err = image.InspectFacts(ctx, nil, p)
	}
	if err != nil {
		return nil, err
	}
	return envinject.Apply(p, facts)
}

// ReportWarnings reports the warnings of Check for the resources plan
// creates or replaces containers of (or creates).
func ReportWarnings(ctx context.Context, plan *engine.Plan, w engine.Warnings) {
	resources := make([]string, 0, len(w))
	for r := range w {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	for _, r := range resources {
		a := plan.Action(r)
		if a == nil || (a.Kind != engine.Create && a.Kind != engine.Recreate && a.Kind != engine.Scale) {
			continue
		}
		for _, msg := range w[r] {
			progress.Report(ctx, r, string(a.Kind), progress.Warning, msg, nil)
		}
	}
}
