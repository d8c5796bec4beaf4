package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Promoter copies released images between registries by digest, talking to
// the registries only.
type Promoter struct {
	keychain authn.Keychain
	images   int
	layers   int
}

// Option configures a Promoter.
type Option func(*Promoter)

// WithKeychain sets where registry credentials come from; default:
// authn.DefaultKeychain (the Docker config, DOCKER_CONFIG, credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(p *Promoter) { p.keychain = k } }

// WithJobs sets how many images are copied at once (default 3) and how many
// blobs of each image at once (default 4).
func WithJobs(images, layers int) Option {
	return func(p *Promoter) { p.images, p.layers = images, layers }
}

// NewPromoter returns a Promoter with the options applied over the defaults.
func NewPromoter(opts ...Option) (*Promoter, error) {
	p := &Promoter{keychain: authn.DefaultKeychain, images: 3, layers: 4}
	for _, o := range opts {
		o(p)
	}
	if p.images < 1 || p.layers < 1 {
		return nil, fmt.Errorf("promoter jobs must be at least 1, got %d images and %d layers", p.images, p.layers)
	}
	if p.keychain == nil {
		return nil, errors.New("promoter needs a keychain")
	}
	return p, nil
}

// Target is the environment a release is promoted into.
type Target struct {
	// Environment names it; the new lock is for this environment.
	Environment string
	// Registry is its registry prefix (x-stack.environments.<env>.registry).
	Registry string
	// Project is the project the environment deploys as (each environment
	// is its own project); empty: the source lock's.
	Project string
}

// Promote copies every image of l into to's registry, as
// <registry>/<service>, under l's digest and tagged with l's tag; checks
// that each arrived under the digest it left with; and returns the lock of
// the release in to. It changes nothing on disk: the caller saves the lock,
// and only when Promote succeeded, so a failed promotion leaves the target's
// locks as they were. An image already in the target is not copied again:
// promoting twice moves no blob. A layer several images share crosses once:
// it is uploaded to the first image's repository and mounted from there into
// the others (cross-repository mount; a registry that refuses mounts gets an
// upload). Every failed image is named in the error, with its registry.
func (p *Promoter) Promote(ctx context.Context, l *Lock, to Target) (*Lock, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if to.Registry == "" {
		return nil, fmt.Errorf("promoting to %q: the environment sets %w: set x-stack.environments.%s.registry", to.Environment, ErrNoRegistry, to.Environment)
	}
	puller, err := newPuller(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("promoting to %q: %w", to.Environment, err)
	}
	pusher, err := newPusher(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("promoting to %q: %w", to.Environment, err)
	}

	jobs := make([]*copyJob, 0, len(l.Services))
	for _, svc := range l.ServiceNames() {
		jobs = append(jobs, &copyJob{svc: svc, si: l.Services[svc]})
	}
	p.each(ctx, jobs, func(j *copyJob) { p.prepare(ctx, puller, pusher, j, l.Tag, to) })
	shared := sharedLayers(jobs)
	p.each(ctx, shared, func(j *copyJob) { p.uploadShared(ctx, pusher, j) })
	mounts := mountSources(shared)
	p.each(ctx, jobs, func(j *copyJob) { p.copy(ctx, puller, pusher, j, mounts) })

	var merr *multierror.Error
	for _, j := range jobs {
		if j.err != nil {
			merr = multierror.Append(merr, j.err)
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
	if to.Project != "" {
		promoted.Project = to.Project
	}
	promoted.Created = time.Now().UTC().Truncate(time.Second)
	promoted.CreatedBy = Who()
	promoted.PromotedFrom = &Origin{Environment: l.Environment, Created: l.Created}
	promoted.Services = map[string]ServiceImage{}
	for _, j := range jobs {
		promoted.Services[j.svc] = ServiceImage{Image: j.dst.String(), Source: j.si.Source}
	}
	return &promoted, nil
}

// copyJob is one service's image on its way to the target registry.
type copyJob struct {
	svc  string
	si   ServiceImage
	src  name.Digest     // in the source registry
	repo name.Repository // in the target registry
	dst  name.Digest     // repo@digest
	ref  name.Reference  // what is written: repo:tag, or dst without a tag
	done bool            // already in the target, or copied
	desc *remote.Descriptor
	img  v1.Image // desc as an image; nil for an index
	// layers of shared: the layer each job uploads once for all (see sharedLayers)
	layers []v1.Layer
	err    error
}

func (j *copyJob) fail(ctx context.Context, what string, err error) {
	j.err = fmt.Errorf("service %s: %s: %w", j.svc, what, err)
	progress.Report(ctx, "image:"+j.svc, "promote", progress.Failed, "", j.err)
}

// each runs fn for every job that has not failed nor finished, p.images at
// a time.
func (p *Promoter) each(ctx context.Context, jobs []*copyJob, fn func(*copyJob)) {
	var todo []*copyJob
	for _, j := range jobs {
		if j.err == nil && !j.done {
			todo = append(todo, j)
		}
	}
	ran := make([]bool, len(todo))
	_ = dag.Each(ctx, len(todo), p.images, func(_ context.Context, i int) error {
		ran[i] = true
		fn(todo[i])
		return nil
	})
	for i, j := range todo {
		if !ran[i] {
			j.err = fmt.Errorf("service %s: %w", j.svc, ctx.Err())
		}
	}
}

// prepare names the job's source and target and finishes it at once when
// the target already has the image; otherwise it reads the source manifest.
func (p *Promoter) prepare(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, j *copyJob, tag string, to Target) {
	var err error
	if j.src, err = name.NewDigest(j.si.Image, name.StrictValidation); err != nil {
		j.fail(ctx, fmt.Sprintf("reading the lock's image %q", j.si.Image), err)
		return
	}
	if j.repo, err = name.NewRepository(manifest.EnvironmentRepository(to.Registry, j.svc), name.StrictValidation); err != nil {
		j.fail(ctx, fmt.Sprintf("naming its repository in registry %q", to.Registry), err)
		return
	}
	j.dst = j.repo.Digest(j.src.DigestStr())
	j.ref = j.dst
	if tag != "" {
		if j.ref, err = name.NewTag(j.repo.Name()+":"+tag, name.StrictValidation); err != nil {
			j.fail(ctx, fmt.Sprintf("tagging with the release tag %q", tag), err)
			return
		}
	}
	progress.Report(ctx, "image:"+j.svc, "promote", progress.Working, fmt.Sprintf("%s -> %s", j.src, j.ref), nil)

	// Already there under this digest (a second promotion, or a rollback):
	// move no blob, at most re-point the tag.
	d, err := puller.Head(ctx, j.dst)
	switch {
	case err == nil && d.Digest.String() == j.src.DigestStr():
		if err := p.ensureTag(ctx, puller, pusher, j.dst, j.ref); err != nil {
			j.fail(ctx, fmt.Sprintf("tagging %s in registry %s", j.ref, j.repo.RegistryStr()), err)
			return
		}
		j.done = true
		progress.Report(ctx, "image:"+j.svc, "promote", progress.Done, "already in "+j.repo.RegistryStr()+": "+j.src.DigestStr(), nil)
		return
	case err != nil && !isNotFound(err):
		j.fail(ctx, fmt.Sprintf("checking %s in registry %s", j.dst, j.repo.RegistryStr()), err)
		return
	}
	if j.desc, err = puller.Get(ctx, j.src); err != nil {
		j.fail(ctx, fmt.Sprintf("reading %s from registry %s", j.src, j.src.RegistryStr()), err)
		return
	}
	if j.desc.MediaType.IsImage() {
		if j.img, err = j.desc.Image(); err != nil {
			j.fail(ctx, fmt.Sprintf("reading %s from registry %s", j.src, j.src.RegistryStr()), err)
		}
	}
}

// sharedLayers finds the layers that more than one image still to copy
// holds, gives each to the first such image (in service order) to upload,
// and returns the images that have some to upload.
func sharedLayers(jobs []*copyJob) []*copyJob {
	holders := map[v1.Hash][]*copyJob{}
	layers := map[v1.Hash]v1.Layer{}
	for _, j := range jobs {
		if j.err != nil || j.done || j.img == nil {
			continue
		}
		ls, err := j.img.Layers()
		if err != nil {
			continue // copy reports it
		}
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				continue
			}
			if n := len(holders[d]); n == 0 || holders[d][n-1] != j {
				holders[d] = append(holders[d], j)
			}
			layers[d] = l
		}
	}
	var owners []*copyJob
	for d, hs := range holders {
		if len(hs) < 2 {
			continue
		}
		if len(hs[0].layers) == 0 {
			owners = append(owners, hs[0])
		}
		hs[0].layers = append(hs[0].layers, layers[d])
	}
	return owners
}

// uploadShared uploads the shared layers the job owns to its repository.
func (p *Promoter) uploadShared(ctx context.Context, pusher *remote.Pusher, j *copyJob) {
	for _, l := range j.layers {
		if err := pusher.Upload(ctx, j.repo, l); err != nil {
			j.fail(ctx, fmt.Sprintf("copying a layer of %s to registry %s", j.src, j.repo.RegistryStr()), err)
			return
		}
	}
}

// copy writes the image to the target, mounting the shared layers other
// jobs uploaded, and checks the digest it arrived under.
func (p *Promoter) copy(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, j *copyJob, mounts map[v1.Hash]name.Repository) {
	var t remote.Taggable = j.desc
	if j.img != nil {
		img, err := mountShared(j, mounts)
		if err != nil {
			j.fail(ctx, fmt.Sprintf("reading %s from registry %s", j.src, j.src.RegistryStr()), err)
			return
		}
		t = img
	}
	if err := pusher.Push(ctx, j.ref, t); err != nil {
		j.fail(ctx, fmt.Sprintf("copying %s to registry %s", j.src, j.repo.RegistryStr()), err)
		return
	}
	got, err := puller.Head(ctx, j.ref)
	if err != nil {
		j.fail(ctx, fmt.Sprintf("verifying %s in registry %s", j.ref, j.repo.RegistryStr()), err)
		return
	}
	if got.Digest.String() != j.src.DigestStr() {
		j.fail(ctx, fmt.Sprintf("verifying %s in registry %s", j.ref, j.repo.RegistryStr()),
			fmt.Errorf("%w: it arrived as %s, it left as %s", ErrDigestMismatch, got.Digest, j.src.DigestStr()))
		return
	}
	j.done = true
	progress.Report(ctx, "image:"+j.svc, "promote", progress.Done, "copied to "+j.repo.RegistryStr()+": "+j.src.DigestStr(), nil)
}

// mountSources says, for each shared layer its owner uploaded, the
// repository of the target that has it. Computed once between the upload
// and the copy phases, it is read-only while the copies run.
func mountSources(owners []*copyJob) map[v1.Hash]name.Repository {
	from := map[v1.Hash]name.Repository{}
	for _, o := range owners {
		if o.err != nil {
			continue
		}
		for _, l := range o.layers {
			if d, err := l.Digest(); err == nil {
				from[d] = o.repo
			}
		}
	}
	return from
}

// mountShared returns j's image with each shared layer that another job's
// repository has marked mountable from there.
func mountShared(j *copyJob, from map[v1.Hash]name.Repository) (v1.Image, error) {
	ls, err := j.img.Layers()
	if err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return j.img, nil
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = l
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		if repo, ok := from[d]; ok && repo != j.repo {
			out[i] = &remote.MountableLayer{Layer: l, Reference: repo.Digest(d.String())}
		}
	}
	return mountingImage{Image: j.img, layers: out}, nil
}

// mountingImage is an image whose layers are offered for mounting; the
// manifest, and so the digest, are the image's own.
type mountingImage struct {
	v1.Image
	layers []v1.Layer
}

func (m mountingImage) Layers() ([]v1.Layer, error) { return m.layers, nil }

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
