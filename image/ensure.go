package image

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// BuildPolicy says when Ensure builds a service that has a build section.
type BuildPolicy int

const (
	// BuildAuto builds when the image is missing or its inputs changed (the
	// default of `stack up` and `stack build`).
	BuildAuto BuildPolicy = iota
	// BuildAlways builds even when the inputs did not change (`--build`).
	BuildAlways
	// BuildNever never builds: the image must be on the engine or pullable
	// (`--no-build`).
	BuildNever
)

// EnsureOptions are the options of one Ensure call.
type EnsureOptions struct {
	Build BuildPolicy
	// NoCache builds without the engine's build cache, and so always builds.
	NoCache bool
	// Pull, when set, replaces the pull_policy of every service that is not
	// built: always, missing or never (`stack pull`, `stack up --pull`).
	Pull string
	// DryRun builds and pulls nothing (`stack plan`): a service whose image
	// would be built or pulled gets an empty ID, meaning "not known yet",
	// and a progress event saying what would happen.
	DryRun bool
}

// Ensure makes the image of each named service (all services when none are
// named) present on the engine and returns service -> image ID.
//
// First every service's settings are validated and every service that is
// not built has its image looked up and, as its pull_policy says, pulled: an
// image neither present nor pullable fails Ensure before any build starts.
// Then the builds run, in parallel up to the Builder's bound, each after
// the builds of the images its FROM lines name. A build whose inputs digest
// equals the InputsLabel of the existing image is not run. A failed build
// does not stop independent ones; the error holds every failure, and the
// map returned with it holds the services that did get an image.
//
// A service with a build section is built, not pulled, unless o.Build is
// BuildNever; pull_policy: build forces its build as --build does.
func (b *Builder) Ensure(ctx context.Context, p *manifest.Project, services []string, o EnsureOptions) (map[string]string, error) {
	switch o.Pull {
	case "", types.PullPolicyAlways, types.PullPolicyMissing, types.PullPolicyNever:
	default:
		return nil, fmt.Errorf("pull %q: use always, missing or never", o.Pull)
	}
	svcs, err := selectServices(p, services)
	if err != nil {
		return nil, err
	}
	var (
		builds  []*buildJob
		fetches []fetchJob
		errs    *multierror.Error
	)
	for _, s := range svcs {
		policy, interval, err := s.GetPullPolicy()
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%s: service %q: pull_policy: %w; use always, missing, never, build, daily, weekly or every_<duration>", strings.Join(p.ComposeFiles, ", "), s.Name, err))
			continue
		}
		if s.Build != nil && o.Build != BuildNever {
			force := o.Build == BuildAlways || o.NoCache || policy == types.PullPolicyBuild
			j, err := prepareBuild(p, s, force)
			if err != nil {
				errs = multierror.Append(errs, err)
				continue
			}
			j.noCache = o.NoCache
			j.dryRun = o.DryRun
			builds = append(builds, j)
			continue
		}
		if s.Build == nil && o.Pull != "" {
			policy, interval = o.Pull, 0
		}
		if s.Build == nil && policy == types.PullPolicyBuild {
			errs = multierror.Append(errs, fmt.Errorf("%s: service %q: pull_policy: build needs a build section; add build: or use pull_policy: missing", strings.Join(p.ComposeFiles, ", "), s.Name))
			continue
		}
		fetches = append(fetches, fetchJob{service: s.Name, image: p.ImageName(s.Name), policy: policy, interval: interval, built: s.Build != nil, local: s.Build != nil && s.Image == "", dryRun: o.DryRun})
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	if len(builds) > 0 {
		be, err := b.builder(ctx)
		if err != nil {
			return nil, err
		}
		for _, j := range builds {
			j.builder = be
			if err := be.check(ctx, j); err != nil {
				errs = multierror.Append(errs, err)
			}
		}
		if err := errs.ErrorOrNil(); err != nil {
			return nil, err
		}
	}
	// A service that runs the image another service builds (image: x with
	// no build, next to build: + image: x) takes the build's result and is
	// never pulled.
	builtBy := map[string]string{}
	for _, j := range builds {
		for _, t := range j.inputs.tags {
			builtBy[normalizedName(t)] = j.service
		}
	}
	sharing := map[string]string{}
	fetches = slices.DeleteFunc(fetches, func(f fetchJob) bool {
		if svc, ok := builtBy[normalizedName(f.image)]; ok {
			sharing[f.service] = svc
			return true
		}
		return false
	})
	ids := &idMap{m: map[string]string{}}
	if err := b.fetchAll(ctx, fetches, ids); err != nil {
		return nil, err
	}
	err = b.buildAll(ctx, builds, ids)
	for svc, builder := range sharing {
		if id := ids.get(builder); id != "" {
			ids.set(svc, id)
		}
	}
	return ids.m, err
}

// selectServices returns the named services, or all, sorted by name.
func selectServices(p *manifest.Project, names []string) ([]types.ServiceConfig, error) {
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	out := make([]types.ServiceConfig, 0, len(names))
	for _, n := range names {
		s, ok := p.Project.Services[n]
		if !ok {
			return nil, fmt.Errorf("no service %q in %s; services: %s", n, strings.Join(p.ComposeFiles, ", "), strings.Join(p.ServiceNames(), ", "))
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type idMap struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *idMap) set(service, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[service] = id
}

func (m *idMap) get(service string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[service]
}

// buildAll builds the jobs, a job after the jobs that build its base
// images, independent ones in parallel, on the same walker as the engine's
// operations: a failed build skips what builds FROM it, and every failure
// is returned.
func (b *Builder) buildAll(ctx context.Context, jobs []*buildJob, ids *idMap) error {
	if err := linkBuildDeps(jobs); err != nil {
		return err
	}
	nodes := make([]dag.Node, len(jobs))
	for i, j := range jobs {
		nodes[i].ID = j.service
		for _, d := range j.deps {
			nodes[i].Needs = append(nodes[i].Needs, d.service)
		}
		sort.Strings(nodes[i].Needs)
	}
	skipped := func(n dag.Node, need string) {
		msg := "interrupted"
		if need != "" {
			msg = fmt.Sprintf("the build of its base image (service %s) failed", need)
		}
		progress.Report(ctx, "image:"+n.ID, "build", progress.Skipped, msg, nil)
	}
	err := dag.Walk(ctx, nodes, b.parallel, dag.Hooks{Skipped: skipped}, func(ctx context.Context, i int) error {
		j := jobs[i]
		id, err := b.ensureBuilt(ctx, j, ids)
		if err != nil {
			j.failed = true
			progress.Report(ctx, "image:"+j.service, "build", progress.Failed, "", err)
			return err
		}
		ids.set(j.service, id)
		return nil
	})
	return err
}

// linkBuildDeps points each job at the jobs that build the images its FROM
// lines name, and refuses cycles.
func linkBuildDeps(jobs []*buildJob) error {
	byImage := map[string]*buildJob{}
	for _, j := range jobs {
		for _, t := range j.inputs.tags {
			byImage[normalizedName(t)] = j
		}
	}
	for _, j := range jobs {
		j.deps = map[string]*buildJob{}
		for _, base := range j.bases {
			if d := byImage[normalizedName(base)]; d != nil && d != j {
				j.deps[base] = d
			}
		}
	}
	ids := make([]string, len(jobs))
	byService := map[string]*buildJob{}
	for i, j := range jobs {
		ids[i] = j.service
		byService[j.service] = j
	}
	c := dag.Cycle(ids, func(service string) []string {
		var out []string
		for _, d := range byService[service].deps {
			out = append(out, d.service)
		}
		sort.Strings(out)
		return out
	})
	if c != nil {
		return fmt.Errorf("services %s build FROM each other's images; break the cycle", dag.Path(c))
	}
	return nil
}

// baseImage returns the ID of a FROM image, pulling it first when the engine
// does not have it: with the Docker config's credentials, which the classic
// builder would not have, and so that the inputs digest records the base the
// build really used.
func (b *Builder) baseImage(ctx context.Context, service, ref string) (string, error) {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		// Not a name this package can resolve (an ARG it could not
		// substitute, say): the engine's own parser will judge it.
		return "", nil
	}
	id, err := b.localID(ctx, ref)
	if err == nil && id == "" {
		if err = b.pull(ctx, service, ref); err == nil {
			id, err = b.localID(ctx, ref)
		}
	}
	if err != nil {
		return "", fmt.Errorf("service %q: getting base image %s: %w", service, ref, err)
	}
	return id, nil
}

// ensureBuilt computes the job's inputs digest and builds unless the image
// already carries it.
func (b *Builder) ensureBuilt(ctx context.Context, j *buildJob, ids *idMap) (string, error) {
	resource := "image:" + j.service
	in := j.inputs
	in.bases = map[string]string{}
	for _, ref := range j.bases {
		if d := j.deps[ref]; d != nil {
			in.bases[ref] = ids.get(d.service)
			continue
		}
		var id string
		var err error
		if j.dryRun {
			id, err = b.localID(ctx, ref) // "" when it would be pulled: the build would run
		} else {
			id, err = b.baseImage(ctx, j.service, ref)
		}
		if err != nil && j.syntax != nil && ref == j.syntax.ref {
			// The frontend BuildKit would fetch itself, fetched first so
			// that an unreachable registry says which line asked for it.
			return "", fmt.Errorf("service %q: %s: getting the Dockerfile frontend image it names: %w; remove the directive to build with the engine's built-in frontend, or make the image's registry reachable", j.service, j.syntax.at(j.inputs.context.dockerfileName()), errors.Unwrap(err))
		}
		if err != nil {
			return "", err
		}
		in.bases[ref] = id
	}
	digest, err := in.digest()
	if err != nil {
		return "", fmt.Errorf("service %q: %w", j.service, err)
	}
	if !j.force {
		ins, found, err := b.inspect(ctx, j.image)
		if err != nil {
			return "", fmt.Errorf("service %q: inspecting image %s: %w", j.service, j.image, err)
		}
		if found && ins.Config != nil && ins.Config.Labels[InputsLabel] == digest {
			progress.Report(ctx, resource, "build", progress.Done, "up to date", nil)
			return ins.ID, nil
		}
	}
	if j.dryRun {
		progress.Report(ctx, resource, "build", progress.Info, "would build "+j.image+": its inputs changed", nil)
		return "", nil
	}
	progress.Report(ctx, resource, "build", progress.Working, "building "+j.image, nil)
	id, err := j.builder.build(ctx, j, digest)
	if err != nil {
		return "", err
	}
	progress.Report(ctx, resource, "build", progress.Done, "built "+j.image+" "+shortID(id), nil)
	return id, nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
