// Package deploy is the decide half of every verb that changes an engine:
// for a loaded manifest it connects to the engine of the selected
// environment with the driver its orchestrator names, checks the services
// against that engine, resolves their images (building and pulling as
// asked), injects the service addresses, observes the engine once and
// diffs, and hands back the Plan with its operations. The CLI parses flags,
// renders and maps errors to exit codes; engine.Apply carries the plan out.
//
// It never prints: warnings are progress events. It holds no engine
// specifics: those are the drivers'.
package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/stack-deploy/stack/internal/dockerclient"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/engine/swarm"
	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Target is the engine a project deploys to: its driver, and the image
// builder whose engine builds, pulls and pushes for it.
type Target struct {
	Driver engine.Driver
	Images *image.Builder
	// Client is the image builder's engine client.
	Client *client.Client
	// manager is the Swarm manager's client when it is not Client.
	manager *client.Client
}

// Option configures Open.
type Option func(*openOptions)

type openOptions struct{ orchestrator string }

// WithOrchestrator deploys with the named driver (manifest.OrchestratorDocker
// or OrchestratorSwarm) whatever the environment says: `--orchestrator`.
// Default: the environment's orchestrator, else docker.
func WithOrchestrator(name string) Option { return func(o *openOptions) { o.orchestrator = name } }

// Open connects to the engine p's environment names (its host:, else
// DOCKER_HOST or the current docker context) with its orchestrator's
// driver. One Target serves a whole verb.
//
// With the docker orchestrator that one engine also builds. A Swarm is
// deployed to through the manager the host names, while images are built
// on the local engine (DOCKER_HOST or the docker context, as for docker
// build) and pushed to the registry the nodes pull from: a manager is no
// build machine, and may be remote.
func Open(p *manifest.Project, opts ...Option) (*Target, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	host := ""
	if p.Env != nil {
		host = p.Env.Host
		if o.orchestrator == "" {
			o.orchestrator = p.Env.Orchestrator
		}
	}
	if err := manifest.ValidOrchestrator(o.orchestrator); err != nil {
		return nil, err
	}
	if o.orchestrator == manifest.OrchestratorSwarm {
		return openSwarm(host)
	}
	c, err := dockerclient.NewForHost(host)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
	}
	d, err := docker.New(docker.WithClient(c))
	if err != nil {
		return nil, err
	}
	b, err := image.New(image.WithClient(c))
	if err != nil {
		return nil, err
	}
	return &Target{Driver: d, Images: b, Client: c}, nil
}

// openSwarm connects to a Swarm manager at host for the driver, and to the
// local engine for the image builder.
func openSwarm(host string) (*Target, error) {
	local, err := dockerclient.New()
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine that builds: %w", err)
	}
	t := &Target{Client: local}
	manager := local
	if host != "" {
		if manager, err = dockerclient.NewForHost(host); err != nil {
			local.Close()
			return nil, fmt.Errorf("connecting to the Swarm manager: %w", err)
		}
		t.manager = manager
	}
	if t.Images, err = image.New(image.WithClient(local)); err != nil {
		t.Close()
		return nil, err
	}
	if t.Driver, err = swarm.New(swarm.WithClient(manager), swarm.WithImages(t.Images, local)); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close releases the engine connections.
func (t *Target) Close() error {
	if t.manager != nil {
		t.manager.Close()
	}
	return t.Client.Close()
}

// Resolver is a Driver whose nodes pull the images from a registry (a
// Swarm): Prepare has it make each service's image one they can pull, by
// digest, and pin p to it, rather than make the images present on the
// builder's engine.
type Resolver interface {
	Resolve(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error)
}

// Options steer Plan, with the meaning of `stack up`'s flags.
type Options struct {
	Diff   engine.DiffOptions
	Images image.EnsureOptions
}

// Plan decides what converging p takes: the services selected, checked
// against the engine (before anything is built or pulled), their images
// ensured, the addresses injected, the engine observed once, the diff, and
// the driver's operations. Warnings about fields the engine cannot honour
// are reported for the services whose containers the plan creates.
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
	ensure := t.Images.Ensure
	if r, ok := t.Driver.(Resolver); ok {
		ensure = r.Resolve
	}
	ids, err := ensure(ctx, p, services, img)
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
// images. When no engine answers, it warns and injects what the manifest
// alone says: the ports images EXPOSE are then unknown.
func Inject(ctx context.Context, t *Target, p *manifest.Project) (envinject.Report, error) {
	var facts engine.Facts
	var err error
	if t != nil {
		facts, err = t.Driver.Facts(ctx, p)
	}
	if t == nil || client.IsErrConnectionFailed(err) {
		if err != nil {
			progress.Report(ctx, "engine", "inspect", progress.Warning, fmt.Sprintf("no engine answers (%v): the ports images EXPOSE are unknown", err), nil)
		}
		facts, err = docker.Facts(ctx, noImages{}, p)
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

// noImages stands for an engine that has no images: Facts then knows no
// image's ports.
type noImages struct{}

func (noImages) ImageInspect(context.Context, string, ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	return dockerimage.InspectResponse{}, cerrdefs.ErrNotFound
}
