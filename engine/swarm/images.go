package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// registryTimeout bounds the wait for a registry's answer headers.
const registryTimeout = 30 * time.Second

// resolveParallel bounds the images resolved at once.
const resolveParallel = 8

var errNoBuilder = errors.New("the Swarm driver has no image builder (WithImages): it cannot build or copy images")

// Resolve makes the image of each named service (all when none) one that
// every node can pull, by digest, and pins p to them (each service's image
// becomes repo@sha256:...). It returns those references by service; an
// empty one is not known yet (a dry run that would build or copy it).
//
//   - A service with build: (unless o says never) is built on the local
//     engine, as `stack build` does, and pushed under its image name.
//   - An image named by digest (a release lock's) is used as it is.
//   - Any other is looked up in its registry. One that the registry lacks
//     but that the environment renames from a source image (its registry
//     prefix) is copied there from the local engine, pulled as its
//     pull_policy says: what `stack release` would push.
//
// A dry run (`stack plan`) builds, pulls and pushes nothing: a build that
// is up to date has the digest it was last pushed under.
func (d *Driver) Resolve(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error) {
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	var build, other []string
	for _, name := range services {
		if p.Project.Services[name].Build != nil && o.Build != image.BuildNever {
			build = append(build, name)
		} else {
			other = append(other, name)
		}
	}
	refs := map[string]string{}
	if err := d.built(ctx, p, build, o, refs); err != nil {
		return nil, err
	}
	// Each reference by tag looked up once however many services run it,
	// and all at once: a registry round trip each (one by digest needs
	// none). Then, one service after another, what is missing copied.
	heads := map[string]func() (string, error){}
	var lookups []func() (string, error)
	for _, svc := range other {
		if ref := p.ImageName(svc); heads[ref] == nil && !isDigest(ref) {
			heads[ref] = sync.OnceValues(func() (string, error) { return d.head(ctx, ref) })
			lookups = append(lookups, heads[ref])
		}
	}
	_ = dag.Each(ctx, len(lookups), resolveParallel, func(_ context.Context, i int) error {
		_, _ = lookups[i]() // its error is the service's, below
		return nil
	})
	var errs *multierror.Error
	for _, svc := range other {
		ref, err := d.resolve(ctx, p, svc, o, heads[p.ImageName(svc)])
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		if ref != "" {
			refs[svc] = ref
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(services))
	for _, svc := range services {
		out[svc] = refs[svc]
		if ref := refs[svc]; ref != "" {
			s := p.Project.Services[svc]
			s.Image = ref
			p.Project.Services[svc] = s
		}
	}
	return out, nil
}

// built builds the services that build and pushes them, recording their
// digest references in refs; a dry run records those of up-to-date builds.
func (d *Driver) built(ctx context.Context, p *manifest.Project, build []string, o image.EnsureOptions, refs map[string]string) error {
	if len(build) == 0 {
		return nil
	}
	if d.images == nil {
		return errNoBuilder
	}
	ids, err := d.images.Ensure(ctx, p, build, o)
	if err != nil {
		return err
	}
	if o.DryRun {
		for _, svc := range build {
			if ids[svc] != "" {
				if ref := d.pushedAs(ctx, p.ImageName(svc), ids[svc]); ref != "" {
					refs[svc] = ref
				}
			}
		}
		return nil
	}
	pushed, err := d.images.Push(ctx, p, build)
	if err != nil {
		return err
	}
	for _, x := range pushed {
		if x.Ref == p.ImageName(x.Service) {
			refs[x.Service] = digestRef(x.Ref, x.Digest)
		}
	}
	for _, svc := range build {
		if refs[svc] == "" {
			return fmt.Errorf("service %q: image %s was not pushed", svc, p.ImageName(svc))
		}
	}
	return nil
}

// resolve finds the digest reference of a service that is not built; head
// looks its image up in its registry.
func (d *Driver) resolve(ctx context.Context, p *manifest.Project, svc string, o image.EnsureOptions, head func() (string, error)) (string, error) {
	ref := p.ImageName(svc)
	if isDigest(ref) {
		return canonical(ref), nil
	}
	digest, err := head()
	if err != nil {
		return "", fmt.Errorf("service %q: resolving image %s in its registry, which the Swarm nodes pull from: %w", svc, ref, err)
	}
	if digest != "" {
		progress.Report(ctx, "image:"+svc, "resolve", progress.Done, ref+"@"+digest, nil)
		return digestRef(ref, digest), nil
	}
	source := ""
	if p.Env != nil {
		source = p.Env.SourceImages[svc]
	}
	if source == "" || source == ref {
		return "", fmt.Errorf("service %q: image %s is not in its registry, which the Swarm nodes pull from: %w; push it there (stack push, or stack release), or correct the name", svc, ref, image.ErrNotFound)
	}
	if o.DryRun {
		progress.Report(ctx, "image:"+svc, "push", progress.Info, "would copy "+source+" into the registry as "+ref, nil)
		return "", nil
	}
	if d.images == nil {
		return "", errNoBuilder
	}
	ids, err := d.images.Ensure(ctx, withImage(p, svc, source), []string{svc}, image.EnsureOptions{Pull: o.Pull})
	if err != nil {
		return "", err
	}
	pushed, err := d.images.PushIDs(ctx, []image.Upload{{Service: svc, ID: ids[svc], Ref: ref}})
	if err != nil {
		return "", err
	}
	return digestRef(ref, pushed[0].Digest), nil
}

// pushedAs is the digest reference under which the local image id was
// pushed to ref's repository, "" when it never was.
func (d *Driver) pushedAs(ctx context.Context, ref, id string) string {
	if d.local == nil {
		return ""
	}
	ins, err := d.local.ImageInspect(ctx, id)
	if err != nil {
		return ""
	}
	repo := repository(ref)
	for _, rd := range ins.RepoDigests {
		if repository(rd) == repo {
			return rd
		}
	}
	return ""
}

// head asks ref's registry for the digest it holds under ref, with the
// keychain's credentials; "" when it holds none.
func (d *Driver) head(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(r, d.remoteOptions(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

func (d *Driver) remoteOptions(ctx context.Context) []remote.Option {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = registryTimeout
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(d.keychain), remote.WithTransport(t), remote.WithUserAgent("stack")}
}

// isDigest reports whether ref names an image by digest.
func isDigest(ref string) bool {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	_, ok := named.(reference.Canonical)
	return ok
}

// canonical is a digest reference without its tag: repo@sha256:..., the
// form the registry and the nodes agree on.
func canonical(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	if c, ok := named.(reference.Canonical); ok {
		return repository(ref) + "@" + c.Digest().String()
	}
	return ref
}

// digestRef is ref's repository at digest.
func digestRef(ref, digest string) string { return repository(ref) + "@" + digest }

// repository is ref's repository as written (no tag, no digest), with the
// registry host it names: 127.0.0.1:5000/shop/web.
func repository(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarName(reference.TrimNamed(named))
}

// withImage is a copy of p in which service runs img; p is unchanged.
func withImage(p *manifest.Project, service, img string) *manifest.Project {
	cp := *p.Project
	cp.Services = maps.Clone(p.Project.Services)
	s := cp.Services[service]
	s.Image, s.Build = img, nil
	cp.Services[service] = s
	out := *p
	out.Project = &cp
	return &out
}
