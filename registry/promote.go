package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Promoter copies released images between registries by digest, talking to
// the registries only.
type Promoter struct {
	keychain  authn.Keychain
	transport http.RoundTripper
	images    int
	layers    int
	now       func() time.Time
}

// Option configures a Promoter.
type Option func(*Promoter)

// WithKeychain sets where registry credentials come from; default:
// authn.DefaultKeychain (the Docker config, DOCKER_CONFIG, credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(p *Promoter) { p.keychain = k } }

// WithTransport sets the HTTP transport; default: remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option { return func(p *Promoter) { p.transport = t } }

// WithJobs sets how many images are copied at once (default 3) and how many
// blobs of each image at once (default 4).
func WithJobs(images, layers int) Option {
	return func(p *Promoter) { p.images, p.layers = images, layers }
}

// NewPromoter returns a Promoter with the options applied over the defaults.
func NewPromoter(opts ...Option) (*Promoter, error) {
	p := &Promoter{keychain: authn.DefaultKeychain, transport: remote.DefaultTransport, images: 3, layers: 4, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	if p.images < 1 || p.layers < 1 {
		return nil, fmt.Errorf("promoter jobs must be at least 1, got %d images and %d layers", p.images, p.layers)
	}
	if p.keychain == nil || p.transport == nil {
		return nil, errors.New("promoter needs a keychain and a transport")
	}
	return p, nil
}

// Target is the environment a release is promoted into.
type Target struct {
	// Environment names it; the new lock is for this environment.
	Environment string
	// Registry is its registry prefix (x-stack.environments.<env>.registry).
	Registry string
}

// Promote copies every image of l into to's registry, as
// <registry>/<service>, under l's digest and tagged with l's tag; checks
// that each arrived under the digest it left with; and returns the lock of
// the release in to. It changes nothing on disk: the caller saves the lock,
// and only when Promote succeeded, so a failed promotion leaves the target's
// locks as they were. An image already in the target is not copied again:
// promoting twice moves no blob. Every failed image is named in the error,
// with its registry.
func (p *Promoter) Promote(ctx context.Context, l *Lock, to Target) (*Lock, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if to.Registry == "" {
		return nil, fmt.Errorf("promoting to %q: %w: set x-stack.environments.%s.registry", to.Environment, ErrNoRegistry, to.Environment)
	}
	puller, err := newPuller(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("promoting to %q: %w", to.Environment, err)
	}
	pusher, err := newPusher(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("promoting to %q: %w", to.Environment, err)
	}

	services := l.ServiceNames()
	out := make([]ServiceImage, len(services))
	errs := make([]error, len(services))
	sem := make(chan struct{}, p.images)
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			out[i], errs[i] = p.copyService(ctx, puller, pusher, l, svc, to)
		}()
	}
	wg.Wait()

	var merr *multierror.Error
	for _, err := range errs {
		if err != nil {
			merr = multierror.Append(merr, err)
		}
	}
	if err := merr.ErrorOrNil(); err != nil {
		merr.ErrorFormat = func(es []error) string {
			if len(es) == 1 {
				return fmt.Sprintf("promoting %s from %s to %s: %v", l.Tag, l.Environment, to.Environment, es[0])
			}
			s := fmt.Sprintf("promoting %s from %s to %s: %d images failed:", l.Tag, l.Environment, to.Environment, len(es))
			for _, e := range es {
				s += "\n  " + e.Error()
			}
			return s
		}
		return nil, merr
	}

	promoted := *l
	promoted.Environment = to.Environment
	promoted.Created = p.now().UTC().Truncate(time.Second)
	promoted.PromotedFrom = &Origin{Environment: l.Environment, Created: l.Created}
	promoted.Services = map[string]ServiceImage{}
	for i, svc := range services {
		promoted.Services[svc] = out[i]
	}
	return &promoted, nil
}

// copyService copies one service's image and verifies it in the target.
func (p *Promoter) copyService(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, l *Lock, svc string, to Target) (ServiceImage, error) {
	resource := "image:" + svc
	si := l.Services[svc]
	fail := func(what string, err error) (ServiceImage, error) {
		err = fmt.Errorf("service %s: %s: %w", svc, what, err)
		progress.Report(ctx, resource, "promote", progress.Failed, "", err)
		return ServiceImage{}, err
	}
	src, err := name.NewDigest(si.Image, name.StrictValidation)
	if err != nil {
		return fail(fmt.Sprintf("reading the lock's image %q", si.Image), err)
	}
	repo, err := name.NewRepository(manifest.EnvironmentRepository(to.Registry, svc), name.StrictValidation)
	if err != nil {
		return fail(fmt.Sprintf("naming its repository in registry %q", to.Registry), err)
	}
	dst := repo.Digest(src.DigestStr())
	var dstRef name.Reference = dst
	if l.Tag != "" {
		tag, err := name.NewTag(repo.Name()+":"+l.Tag, name.StrictValidation)
		if err != nil {
			return fail(fmt.Sprintf("tagging with the release tag %q", l.Tag), err)
		}
		dstRef = tag
	}
	progress.Report(ctx, resource, "promote", progress.Working, fmt.Sprintf("%s -> %s", src, dstRef), nil)

	// Already there under this digest (a second promotion, or a rollback):
	// move no blob, at most re-point the tag.
	if d, err := puller.Head(ctx, dst); err == nil && d.Digest.String() == src.DigestStr() {
		if err := p.ensureTag(ctx, puller, pusher, dst, dstRef); err != nil {
			return fail(fmt.Sprintf("tagging %s in registry %s", dstRef, repo.RegistryStr()), err)
		}
		progress.Report(ctx, resource, "promote", progress.Done, "already in "+repo.RegistryStr()+": "+src.DigestStr(), nil)
		return ServiceImage{Image: dst.String(), Source: si.Source}, nil
	} else if err != nil && !isNotFound(err) {
		return fail(fmt.Sprintf("checking %s in registry %s", dst, repo.RegistryStr()), err)
	}

	desc, err := puller.Get(ctx, src)
	if err != nil {
		return fail(fmt.Sprintf("reading %s from registry %s", src, src.RegistryStr()), err)
	}
	if err := pusher.Push(ctx, dstRef, desc); err != nil {
		return fail(fmt.Sprintf("copying %s to registry %s", src, repo.RegistryStr()), err)
	}
	got, err := puller.Head(ctx, dstRef)
	if err != nil {
		return fail(fmt.Sprintf("verifying %s in registry %s", dstRef, repo.RegistryStr()), err)
	}
	if got.Digest.String() != src.DigestStr() {
		return fail(fmt.Sprintf("verifying %s in registry %s", dstRef, repo.RegistryStr()),
			fmt.Errorf("%w: it arrived as %s, it left as %s", ErrDigestMismatch, got.Digest, src.DigestStr()))
	}
	progress.Report(ctx, resource, "promote", progress.Done, "copied to "+repo.RegistryStr()+": "+src.DigestStr(), nil)
	return ServiceImage{Image: dst.String(), Source: si.Source}, nil
}

// ensureTag points ref at the manifest dst when ref is a tag that does not
// already point there.
func (p *Promoter) ensureTag(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, dst name.Digest, ref name.Reference) error {
	tag, ok := ref.(name.Tag)
	if !ok {
		return nil
	}
	if d, err := puller.Head(ctx, tag); err == nil && d.Digest.String() == dst.DigestStr() {
		return nil
	}
	desc, err := puller.Get(ctx, dst)
	if err != nil {
		return err
	}
	return pusher.Push(ctx, tag, desc)
}

func (p *Promoter) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(p.keychain),
		remote.WithTransport(p.transport),
		remote.WithJobs(p.layers),
		remote.WithUserAgent("stack"),
	}
}

// newPuller and newPusher share one authenticated transport per registry
// and repository for all the images of a call.
func newPuller(ctx context.Context, p *Promoter) (*remote.Puller, error) {
	return remote.NewPuller(p.remoteOptions(ctx)...)
}

func newPusher(ctx context.Context, p *Promoter) (*remote.Pusher, error) {
	return remote.NewPusher(p.remoteOptions(ctx)...)
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && (terr.StatusCode == http.StatusNotFound)
}
