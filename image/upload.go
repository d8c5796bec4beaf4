package image

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/progress"
)

// Upload is one engine image to push under a name of its own.
type Upload struct {
	Service string
	// ID is the image on the engine (sha256:...), e.g. the ID a build
	// returned.
	ID string
	// Ref is the name it is pushed as, <registry>/<repository>:<tag>. The
	// engine pushes by name, and any build or pull on the engine can move a
	// name, so Ref should be one that no other run pushes at the same time:
	// a release tag, not latest.
	Ref string
}

// PushIDs pushes images by their IDs: each is named Ref on the engine,
// pushed, checked to be in the registry as that very image (see Push), and
// the name Ref is removed from the engine again. Pushes run in parallel and
// are retried as Push's are.
func (b *Builder) PushIDs(ctx context.Context, ups []Upload) ([]Pushed, error) {
	for _, u := range ups {
		if u.ID == "" {
			return nil, fmt.Errorf("service %q: pushing %s: no image ID to push", u.Service, u.Ref)
		}
		if _, err := name.NewTag(u.Ref, name.StrictValidation); err != nil {
			return nil, fmt.Errorf("service %q: pushing as %q: the name has %w; want <registry>/<repository>:<tag>", u.Service, u.Ref, err)
		}
		if !HasRegistry(u.Ref) {
			return nil, fmt.Errorf("service %q: pushing as %q: the name has %w; want <registry>/<repository>:<tag>", u.Service, u.Ref, ErrNoRegistry)
		}
	}
	return b.pushAll(ctx, ups, true)
}

// pushAll pushes every upload, at most b.parallel at once; with tag set it
// first names each image its Ref on the engine.
func (b *Builder) pushAll(ctx context.Context, ups []Upload, tag bool) ([]Pushed, error) {
	pushed := make([]Pushed, len(ups))
	ok := make([]bool, len(ups))
	err := dag.Each(ctx, len(ups), b.parallel, func(ctx context.Context, i int) error {
		u := ups[i]
		digest, err := b.pushImage(ctx, u, tag)
		if err != nil {
			progress.Report(ctx, "image:"+u.Service, "push", progress.Failed, "", err)
			return err
		}
		pushed[i], ok[i] = Pushed{Service: u.Service, Ref: u.Ref, ID: u.ID, Digest: digest}, true
		progress.Report(ctx, "image:"+u.Service, "push", progress.Done, u.Ref+"@"+digest, nil)
		return nil
	})
	var out []Pushed
	for i, x := range pushed {
		if ok[i] {
			out = append(out, x)
		}
	}
	return out, err
}

// pushImage pushes u.Ref and checks that the registry stored image u.ID.
// With tag set it names u.ID u.Ref on the engine first, and removes that
// name when done.
func (b *Builder) pushImage(ctx context.Context, u Upload, tag bool) (string, error) {
	if tag {
		if err := b.client.ImageTag(ctx, u.ID, u.Ref); err != nil {
			return "", fmt.Errorf("service %q: naming image %s %s on the engine: %w", u.Service, shortID(u.ID), u.Ref, err)
		}
		defer b.untag(ctx, u)
	}
	digest, err := b.pushWithRetry(ctx, u.Service, u.Ref)
	if err != nil {
		return "", err
	}
	if err := b.checkPushed(ctx, u, digest); err != nil {
		return "", fmt.Errorf("service %q: pushing %s: %w", u.Service, u.Ref, err)
	}
	return digest, nil
}

// untag removes the name pushImage gave an image, unless another run has
// given it to another image since. The image stays as long as it has
// another name; one without (its build's name went to a later build) has no
// further use here and goes, as docker rmi would remove it. It runs after a
// cancelled push too, within a bounded time.
func (b *Builder) untag(ctx context.Context, u Upload) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	id, err := b.localID(ctx, u.Ref)
	if err == nil && id != u.ID {
		return
	}
	if err == nil {
		_, err = b.client.ImageRemove(ctx, u.Ref, image.RemoveOptions{PruneChildren: true})
	}
	if err != nil {
		progress.Report(ctx, "image:"+u.Service, "push", progress.Warning, fmt.Sprintf("removing the name %s from the engine: %v", u.Ref, err), nil)
	}
}

// checkPushed reads the manifest the registry stored under digest and checks
// that it is image id: the engine's image ID is the digest of the image's
// config (or, on an engine that stores images by manifest, the manifest's
// digest itself). Anything else means the name was moved to another image
// between the moment it was chosen and the push.
func (b *Builder) checkPushed(ctx context.Context, u Upload, digest string) error {
	if digest == u.ID {
		return nil
	}
	config, err := b.pushedConfig(ctx, u.Ref, digest)
	if err != nil {
		creds, _ := b.credentialsFor(ctx, u.Ref)
		return fmt.Errorf("checking %s in the registry: %s", digest, creds.redact(err.Error()))
	}
	if config != u.ID {
		return fmt.Errorf("%w: the registry stored %s, which is image %s, not %s: another build or pull on this engine named another image %s during the push; push again, under a name that no other run pushes at the same time",
			ErrPushedOther, digest, shortID(config), shortID(u.ID), u.Ref)
	}
	return nil
}

// pushedConfig returns the config digest of the manifest ref's repository
// holds under digest, read from the registry with the keychain's
// credentials.
func (b *Builder) pushedConfig(ctx context.Context, ref, digest string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	desc, err := remote.Get(r.Context().Digest(digest), RemoteOptions(ctx, b.keychain)...)
	if err != nil {
		return "", err
	}
	if !desc.MediaType.IsImage() {
		return "", fmt.Errorf("it is a %s, not an image manifest", desc.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return "", err
	}
	return m.Config.Digest.String(), nil
}
