package image

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// registryTimeout bounds the wait for a registry's answer headers.
const registryTimeout = 30 * time.Second

// resolveParallel bounds the images resolved at once.
const resolveParallel = 8

var errNoBuilder = errors.New("no image builder: the images cannot be built or copied")

// Publisher builds and pushes a project's images on the engine that builds
// them: *Builder.
type Publisher interface {
	Ensure(ctx context.Context, p *manifest.Project, services []string, o EnsureOptions) (map[string]string, error)
	Push(ctx context.Context, p *manifest.Project, services []string) ([]Pushed, error)
	PushIDs(ctx context.Context, ups []Upload) ([]Pushed, error)
}

// NodeImages makes a project's images ones that a cluster's nodes pull by
// digest from a registry (a Swarm's, a Kubernetes cluster's): what it
// builds it pushes, what it names it looks up, what the environment renames
// it copies. The Swarm and Kubernetes drivers resolve through it.
type NodeImages struct {
	images   Publisher
	local    Inspector
	keychain authn.Keychain
	nodes    string

	mu    sync.Mutex
	facts map[string]imageFacts // by digest reference: it never changes
}

// NewNodeImages returns a NodeImages that builds and pushes with images (nil: it
// can only look images up), reads what local built (the digests an image
// was pushed under; nil: none known), and takes registry credentials from
// keychain. nodes names who pulls, for its errors: "the Swarm nodes".
func NewNodeImages(images Publisher, local Inspector, keychain authn.Keychain, nodes string) *NodeImages {
	return &NodeImages{images: images, local: local, keychain: keychain, nodes: nodes, facts: map[string]imageFacts{}}
}

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
func (d *NodeImages) Resolve(ctx context.Context, p *manifest.Project, services []string, o EnsureOptions) (map[string]string, error) {
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	var build, other []string
	for _, name := range services {
		if p.Project.Services[name].Build != nil && o.Build != BuildNever {
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
		if ref := p.ImageName(svc); heads[ref] == nil && !IsDigest(ref) {
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
func (d *NodeImages) built(ctx context.Context, p *manifest.Project, build []string, o EnsureOptions, refs map[string]string) error {
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
func (d *NodeImages) resolve(ctx context.Context, p *manifest.Project, svc string, o EnsureOptions, head func() (string, error)) (string, error) {
	ref := p.ImageName(svc)
	if IsDigest(ref) {
		return canonical(ref), nil
	}
	digest, err := head()
	if err != nil {
		return "", fmt.Errorf("service %q: resolving image %s in its registry, which %s pull from: %w", svc, ref, d.nodes, err)
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
		return "", fmt.Errorf("service %q: image %s is not in its registry, which %s pull from: %w; push it there (stack push, or stack release), or correct the name", svc, ref, d.nodes, ErrNotFound)
	}
	if o.DryRun {
		progress.Report(ctx, "image:"+svc, "push", progress.Info, "would copy "+source+" into the registry as "+ref, nil)
		return "", nil
	}
	if d.images == nil {
		return "", errNoBuilder
	}
	ids, err := d.images.Ensure(ctx, withImage(p, svc, source), []string{svc}, EnsureOptions{Pull: o.Pull})
	if err != nil {
		return "", err
	}
	pushed, err := d.images.PushIDs(ctx, []Upload{{Service: svc, ID: ids[svc], Ref: ref}})
	if err != nil {
		return "", err
	}
	return digestRef(ref, pushed[0].Digest), nil
}

// pushedAs is the digest reference under which the local image id was
// pushed to ref's repository, "" when it never was.
func (d *NodeImages) pushedAs(ctx context.Context, ref, id string) string {
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
func (d *NodeImages) head(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(r, RemoteOptions(ctx, d.keychain)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

// RemoteOptions are go-containerregistry's options for a registry call:
// ctx, credentials from keychain, answer headers within 30 s.
func RemoteOptions(ctx context.Context, keychain authn.Keychain) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain), remote.WithTransport(registryTransport()), remote.WithUserAgent("stack")}
}

// registryTransport is HTTP's default transport with registryTimeout for
// a registry's answer headers.
func registryTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = registryTimeout
	return t
}

// IsDigest reports whether ref names an image by digest.
func IsDigest(ref string) bool {
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

// Facts answers envinject's questions for a cluster (a service is reachable
// under its service name: a Swarm task's alias on the overlay networks, a
// Kubernetes Service's name) and says which images declare a HEALTHCHECK. An image's config comes from the local engine when it has
// the image (one just built), else from its registry, where the nodes will
// pull it: no image is pulled to learn its ports. An image neither has is
// unknown (not built or copied yet); a registry that cannot be asked is
// reported as a warning, and its images are unknown too.
func (d *NodeImages) Facts(ctx context.Context, p *manifest.Project) (Facts, error) {
	f := Facts{}
	for _, svc := range p.ServiceNames() {
		ref := p.ImageName(svc)
		facts, err := d.imageFacts(ctx, ref)
		if err != nil {
			progress.Report(ctx, "image:"+svc, "inspect", progress.Warning, fmt.Sprintf("reading the config of %s from its registry: %v; the ports it EXPOSEs are unknown", ref, err), nil)
		}
		f[svc] = facts
	}
	return f, nil
}

// imageFacts reads what image ref declares, once per digest reference (it
// never changes) in its life.
func (d *NodeImages) imageFacts(ctx context.Context, ref string) (imageFacts, error) {
	d.mu.Lock()
	facts, ok := d.facts[ref]
	d.mu.Unlock()
	if ok {
		return facts, nil
	}
	var cfg *v1.Config
	if d.local != nil {
		ins, err := d.local.ImageInspect(ctx, ref)
		switch {
		case err == nil && ins.Config != nil:
			cfg = &v1.Config{ExposedPorts: map[string]struct{}{}}
			for p := range ins.Config.ExposedPorts {
				cfg.ExposedPorts[string(p)] = struct{}{}
			}
			if hc := ins.Config.Healthcheck; hc != nil {
				cfg.Healthcheck = &v1.HealthConfig{Test: hc.Test}
			}
		case err != nil && !cerrdefs.IsNotFound(err):
			return imageFacts{}, fmt.Errorf("inspecting image %s: %w", ref, err)
		}
	}
	if cfg == nil {
		var err error
		if cfg, err = d.remoteConfig(ctx, ref); err != nil || cfg == nil {
			return imageFacts{}, err
		}
	}
	facts = imageFacts{known: true, ports: []string{}}
	for p := range cfg.ExposedPorts {
		facts.ports = append(facts.ports, p)
	}
	slices.Sort(facts.ports)
	facts.healthcheck = cfg.Healthcheck != nil && len(cfg.Healthcheck.Test) > 0 && cfg.Healthcheck.Test[0] != "NONE"
	if IsDigest(ref) {
		d.mu.Lock()
		d.facts[ref] = facts
		d.mu.Unlock()
	}
	return facts, nil
}

// remoteConfig reads image ref's config from its registry (for this
// machine's platform when ref is an index); nil when the registry has no
// such image.
func (d *NodeImages) remoteConfig(ctx context.Context, ref string) (*v1.Config, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, nil // not a name a registry could hold: unknown
	}
	img, err := remote.Image(r, RemoteOptions(ctx, d.keychain)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return &cf.Config, nil
}
