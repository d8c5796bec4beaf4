package registry

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Images builds, pulls and pushes a project's images: *image.Builder.
type Images interface {
	Ensure(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error)
	Push(ctx context.Context, p *manifest.Project, services []string) ([]image.Pushed, error)
}

// Engine is the part of the Docker client a release uses beyond Images:
// *client.Client implements it.
type Engine interface {
	ImageTag(ctx context.Context, source, target string) error
}

// Releaser makes releases of a project into its environment's registry.
type Releaser struct {
	// Images builds what has a build section and pushes (image.New()).
	Images Images
	// Engine names pulled images into the environment's registry.
	Engine Engine
	// Registry tags the release in the registry, registry side.
	Registry *Promoter
}

// ReleaseOptions are the options of one Release.
type ReleaseOptions struct {
	// Tag names the release; empty: <UTC time>-<commit> (see defaultTag).
	Tag string
	// Build says when to build; default image.BuildAuto, which skips builds
	// whose inputs did not change.
	Build image.BuildPolicy
}

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// defaultTag names a release made at t from commit (may be empty):
// 20261122-011500 or 20261122-011500-0123abc, sortable and unique enough
// for one project.
func defaultTag(t time.Time, commit string) string {
	tag := t.UTC().Format("20060102-150405")
	if len(commit) >= 7 {
		tag += "-" + commit[:7]
	}
	return tag
}

// Release publishes p, loaded for an environment with a registry, as one
// release: builds the services that have a build section (unchanged ones are
// skipped) under their environment image names, takes every other service's
// image as the compose files name it (pulled by its pull_policy) and names it
// into the registry, pushes them all, tags them with the release tag in the
// registry, and returns the lock: every service pinned to the digest the
// registry stored. The lock is not saved: Store.Save does that.
func (r Releaser) Release(ctx context.Context, p *manifest.Project, o ReleaseOptions) (*Lock, error) {
	if p.Env == nil {
		return nil, fmt.Errorf("releasing: choose the environment to release to with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
	}
	env := p.Env
	if env.Registry == "" {
		return nil, fmt.Errorf("releasing to %q: %w: set x-stack.environments.%s.registry (e.g. registry.example.com/%s)", env.Name, ErrNoRegistry, env.Name, p.Name)
	}
	mh, err := HashManifest(p)
	if err != nil {
		return nil, err
	}
	commit, dirty := gitCommit(ctx, p.WorkingDir)
	now := time.Now().UTC().Truncate(time.Second)
	tag := o.Tag
	if tag == "" {
		tag = defaultTag(now, commit)
	}
	if !tagPattern.MatchString(tag) {
		return nil, fmt.Errorf("releasing: tag %q: use letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'", tag)
	}
	services := p.ServiceNames()

	// Build under the environment's image names (stable from one release to
	// the next, so unchanged builds are skipped); take the other images from
	// where the compose files say.
	src := withImages(p, func(svc string, s types.ServiceConfig) string {
		if s.Build != nil {
			return s.Image
		}
		return env.SourceImages[svc]
	})
	ids, err := r.Images.Ensure(ctx, src, services, image.EnsureOptions{Build: o.Build})
	if err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	// Push under the environment's names; one pinned by digest (a digest
	// cannot name a local image) under the release tag.
	dst := withImages(p, func(_ string, s types.ServiceConfig) string {
		if ref, err := name.NewDigest(s.Image); err == nil {
			return ref.Context().Tag(tag).String()
		}
		return s.Image
	})
	for _, svc := range services {
		if p.Project.Services[svc].Build != nil {
			continue
		}
		target := dst.Project.Services[svc].Image
		if err := r.Engine.ImageTag(ctx, ids[svc], target); err != nil {
			return nil, fmt.Errorf("releasing to %q: service %s: naming %s as %s: %w", env.Name, svc, env.SourceImages[svc], target, err)
		}
	}
	pushed, err := r.Images.Push(ctx, dst, services)
	if err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}

	l := &Lock{
		Version: LockVersion, Project: p.Name, Environment: env.Name, Tag: tag, Created: now,
		GitCommit: commit, GitDirty: dirty, Manifest: mh, Services: map[string]ServiceImage{},
	}
	for _, x := range pushed {
		want := dst.Project.Services[x.Service].Image
		if x.Ref != want {
			continue // a build tag of the service, not its image
		}
		ref, err := name.ParseReference(x.Ref, name.WeakValidation)
		if err != nil {
			return nil, fmt.Errorf("releasing to %q: service %s: %w", env.Name, x.Service, err)
		}
		source := env.SourceImages[x.Service]
		if p.Project.Services[x.Service].Build != nil {
			source = "build"
		}
		l.Services[x.Service] = ServiceImage{Image: ref.Context().Digest(x.Digest).String(), Source: source}
	}
	for _, svc := range services {
		if _, ok := l.Services[svc]; !ok {
			return nil, fmt.Errorf("releasing to %q: service %s: its image %s was not pushed", env.Name, svc, dst.Project.Services[svc].Image)
		}
	}
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	if err := r.Registry.TagRelease(ctx, l); err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	return l, nil
}

// withImages returns a copy of p whose services are named image(service,
// config); p is left as it is.
func withImages(p *manifest.Project, image func(string, types.ServiceConfig) string) *manifest.Project {
	cp := *p.Project
	cp.Services = maps.Clone(p.Project.Services)
	for svc, s := range cp.Services {
		s.Image = image(svc, s)
		cp.Services[svc] = s
	}
	out := *p
	out.Project = &cp
	return &out
}

// TagRelease tags every image of l with l.Tag in its own registry: one
// manifest write each, no blob moves.
func (p *Promoter) TagRelease(ctx context.Context, l *Lock) error {
	pusher, err := newPusher(ctx, p)
	if err != nil {
		return err
	}
	puller, err := newPuller(ctx, p)
	if err != nil {
		return err
	}
	for _, svc := range l.ServiceNames() {
		d, err := name.NewDigest(l.Services[svc].Image, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
		tag, err := name.NewTag(d.Context().Name()+":"+l.Tag, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("service %s: tagging with %q: %w", svc, l.Tag, err)
		}
		if err := p.ensureTag(ctx, puller, pusher, d, tag); err != nil {
			return fmt.Errorf("service %s: tagging %s as %s in registry %s: %w", svc, d, tag.TagStr(), d.RegistryStr(), err)
		}
		progress.Report(ctx, "image:"+svc, "release", progress.Done, tag.String()+"@"+d.DigestStr(), nil)
	}
	return nil
}
