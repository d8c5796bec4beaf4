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
	PushIDs(ctx context.Context, ups []image.Upload) ([]image.Pushed, error)
}

// Releaser makes releases of a project into its environment's registry.
type Releaser struct {
	// Images builds what has a build section and pushes (image.New()).
	Images Images
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
// image as the compose files name it (pulled by its pull_policy), pushes
// each service's image by its image ID as <registry>/<service>:<release tag>
// and checks the registry stored that very image, points the service's
// environment image name (and any build tag with a registry) at it in the
// registry, and returns the lock: every service pinned to the digest the
// registry stored. The lock is not saved: Store.Save does that.
//
// Another release on the same engine at the same time (two CI jobs) cannot
// make this one lock its image: nothing is pushed by a name a build moves.
// Both runs do point the shared names (latest) at their own image, the later
// one last.
func (r Releaser) Release(ctx context.Context, p *manifest.Project, o ReleaseOptions) (*Lock, error) {
	if p.Env == nil {
		return nil, fmt.Errorf("releasing: choose the environment to release to with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
	}
	env := p.Env
	if env.Registry == "" {
		return nil, fmt.Errorf("releasing to %q: the environment sets %w: set x-stack.environments.%s.registry (e.g. registry.example.com/%s)", env.Name, ErrNoRegistry, env.Name, p.Name)
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

	ids, err := r.Images.Ensure(ctx, sourceProject(p), services, image.EnsureOptions{Build: o.Build})
	if err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	ups := make([]image.Upload, 0, len(services))
	repos := map[string]name.Repository{}
	for _, svc := range services {
		ref, err := name.ParseReference(p.Project.Services[svc].Image, name.StrictValidation)
		if err != nil {
			return nil, fmt.Errorf("releasing to %q: service %s: %w", env.Name, svc, err)
		}
		repos[svc] = ref.Context()
		ups = append(ups, image.Upload{Service: svc, ID: ids[svc], Ref: ref.Context().Tag(tag).String()})
	}
	pushed, err := r.Images.PushIDs(ctx, ups)
	if err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}

	l := &Lock{
		Version: LockVersion, Project: p.Name, Environment: env.Name, Tag: tag, Created: now, CreatedBy: Who(),
		GitCommit: commit, GitDirty: dirty, Manifest: mh, Services: map[string]ServiceImage{},
	}
	for _, x := range pushed {
		source := env.SourceImages[x.Service]
		if p.Project.Services[x.Service].Build != nil {
			source = "build"
		}
		l.Services[x.Service] = ServiceImage{Image: repos[x.Service].Digest(x.Digest).String(), Source: source}
	}
	for _, svc := range services {
		if _, ok := l.Services[svc]; !ok {
			return nil, fmt.Errorf("releasing to %q: service %s: its image was not pushed", env.Name, svc)
		}
	}
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	if err := r.Registry.tagRelease(ctx, l, otherNames(p)); err != nil {
		return nil, fmt.Errorf("releasing to %q: %w", env.Name, err)
	}
	return l, nil
}

// sourceProject is p with each service named where a release takes its
// image from: a built service under its environment image name (stable from
// one release to the next, so an unchanged build is skipped), any other
// service as the compose files name it. A service that runs the image
// another service builds (web: {build, image: x} next to worker: {image: x})
// is named as that build, so it takes the image just built, never whatever
// the engine or a registry holds as x.
func sourceProject(p *manifest.Project) *manifest.Project {
	builtAs := map[string]string{} // normalized source image -> environment image name
	for _, svc := range p.ServiceNames() {
		if s := p.Project.Services[svc]; s.Build != nil && p.Env.SourceImages[svc] != "" {
			builtAs[normalized(p.Env.SourceImages[svc])] = s.Image
		}
	}
	return withImages(p, func(svc string, s types.ServiceConfig) string {
		if s.Build != nil {
			return s.Image
		}
		if img, ok := builtAs[normalized(p.Env.SourceImages[svc])]; ok {
			return img
		}
		return p.Env.SourceImages[svc]
	})
}

// normalized is the form in which image names are compared: busybox and
// docker.io/library/busybox:latest are one image.
func normalized(ref string) string {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ref
	}
	return r.Name()
}

// otherNames lists, by service, the names besides the release tag that a
// release points at its image in the registry: the environment image name
// when it is a tag (<registry>/<service>:latest), and build tags that carry
// a registry, as stack push would push them.
func otherNames(p *manifest.Project) map[string][]string {
	out := map[string][]string{}
	for _, svc := range p.ServiceNames() {
		s := p.Project.Services[svc]
		if _, err := name.NewTag(s.Image, name.StrictValidation); err == nil {
			out[svc] = append(out[svc], s.Image)
		}
		if s.Build == nil {
			continue
		}
		for _, t := range s.Build.Tags {
			if image.HasRegistry(t) {
				out[svc] = append(out[svc], t)
			}
		}
	}
	return out
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

// tagRelease checks that l.Tag of every image's repository (which the
// release pushed) names the image's digest in the registry, and points each
// of names[service] (other tags, in any repository; blobs are copied or
// mounted where that repository lacks them) at it: one manifest write each,
// none when the tag already points there. A release tag naming another
// digest was written by another release with the same tag in the meantime.
func (p *Promoter) tagRelease(ctx context.Context, l *Lock, names map[string][]string) error {
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
		got, err := puller.Head(ctx, tag)
		if err != nil {
			return fmt.Errorf("service %s: reading %s back from registry %s: %w", svc, tag, tag.RegistryStr(), err)
		}
		if got.Digest.String() != d.DigestStr() {
			return fmt.Errorf("service %s: %w: %s is %s, not this release's %s: another release with tag %s pushed at the same time; release again with a tag of its own (--tag)",
				svc, ErrDigestMismatch, tag, got.Digest, d.DigestStr(), l.Tag)
		}
		for _, n := range names[svc] {
			t, err := name.NewTag(n, name.StrictValidation)
			if err != nil {
				return fmt.Errorf("service %s: tagging as %q: %w", svc, n, err)
			}
			if err := p.ensureTag(ctx, puller, pusher, d, t); err != nil {
				return fmt.Errorf("service %s: tagging %s as %s in registry %s: %w", svc, d, t, t.RegistryStr(), err)
			}
		}
		progress.Report(ctx, "image:"+svc, "release", progress.Done, tag.String()+"@"+d.DigestStr(), nil)
	}
	return nil
}
