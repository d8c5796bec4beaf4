package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/image"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Pushed is one image pushed to its registry.
type Pushed struct {
	Service string
	// Ref is the name pushed, e.g. 127.0.0.1:5000/shop/web:1.2.
	Ref string
	// ID is the engine's ID of the image pushed: what the registry stored
	// was checked to be this image.
	ID string
	// Digest is the manifest digest the registry stored, sha256:...
	Digest string
}

// Push pushes the images of the named services (all services with an image
// name carrying a registry when none are named): the image name and the
// build tags that carry one. Pushes run in parallel; a transient registry
// failure is retried with backoff; credentials come from the keychain and
// never appear in errors.
//
// Each name is looked up on the engine once, before any push, and what the
// registry stored is then checked to be that image (its config digest is the
// image ID): a build or pull that moves the name on the same engine during
// the push makes Push fail with ErrPushedOther rather than report another
// image's digest.
//
// A named service whose image carries no registry is an error; when none are
// named, such services are skipped with a warning.
func (b *Builder) Push(ctx context.Context, p *manifest.Project, services []string) ([]Pushed, error) {
	svcs, err := selectServices(p, services)
	if err != nil {
		return nil, err
	}
	skipUnregistered := len(services) == 0
	var (
		ups  []Upload
		seen = map[string]bool{} // services sharing an image push it once
		errs *multierror.Error
	)
	for _, s := range svcs {
		refs := []string{p.ImageName(s.Name)}
		if s.Build != nil {
			refs = append(refs, s.Build.Tags...)
		}
		for i, ref := range refs {
			if HasRegistry(ref) {
				if !seen[ref] {
					seen[ref] = true
					ups = append(ups, Upload{Service: s.Name, Ref: ref})
				}
				continue
			}
			if i > 0 {
				continue // a local-only build tag
			}
			if skipUnregistered {
				progress.Report(ctx, "image:"+s.Name, "push", progress.Skipped, "image "+ref+" names no registry", nil)
				continue
			}
			errs = multierror.Append(errs, fmt.Errorf("%s: service %q: image %q names %w to push to; set image: to <registry>/%s", strings.Join(p.ComposeFiles, ", "), s.Name, ref, ErrNoRegistry, ref))
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	for i, u := range ups {
		id, err := b.localID(ctx, u.Ref)
		switch {
		case err != nil:
			errs = multierror.Append(errs, fmt.Errorf("service %q: inspecting image %s: %w", u.Service, u.Ref, err))
		case id == "":
			errs = multierror.Append(errs, fmt.Errorf("service %q: pushing %s: %w on the engine; build it (stack build) or pull it first", u.Service, u.Ref, ErrNotFound))
		}
		ups[i].ID = id
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	pushed, err := b.pushAll(ctx, ups, false)
	sort.Slice(pushed, func(a, b int) bool { return pushed[a].Ref < pushed[b].Ref })
	return pushed, err
}

// HasRegistry reports whether an image name starts with a registry host
// (a first component with a dot or port, or localhost), as docker decides.
func HasRegistry(ref string) bool {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	return strings.HasPrefix(ref, reference.Domain(named)+"/")
}

// pushWithRetry pushes ref, retrying transient failures with doubling
// backoff up to b.attempts attempts. Refused credentials are not retried.
func (b *Builder) pushWithRetry(ctx context.Context, service, ref string) (string, error) {
	creds, err := b.credentialsFor(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("service %q: pushing %s: %w", service, ref, err)
	}
	if err := b.checkPush(ref); err != nil {
		return "", fmt.Errorf("service %q: pushing %s: %w", service, ref, err)
	}
	wait := b.backoff
	for attempt := 1; ; attempt++ {
		digest, err := b.push(ctx, service, ref, creds)
		if err == nil {
			return digest, nil
		}
		msg := creds.redact(err.Error())
		switch {
		case isAuthError(msg):
			host := registryHost(ref)
			return "", fmt.Errorf("service %q: pushing %s: %w: %s; check the credentials for %s in the Docker config (docker login %s)", service, ref, ErrUnauthorized, msg, host, host)
		case ctx.Err() != nil:
			return "", ctx.Err()
		case !isTransient(msg) || attempt >= b.attempts:
			return "", fmt.Errorf("service %q: pushing %s (attempt %d of %d): %s", service, ref, attempt, b.attempts, msg)
		}
		progress.Report(ctx, "image:"+service, "push", progress.Warning, fmt.Sprintf("attempt %d of %d failed, retrying in %v: %s", attempt, b.attempts, wait, msg), nil)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// checkPushPermission asks the registry, with the keychain's credentials,
// to start an upload to ref's repository (and cancels it). A refusal is
// reported at once: the engine would otherwise retry every layer for a
// minute before giving up. Anything else (the registry unreachable from
// here but maybe not from the engine) is left for the push to find out.
func (b *Builder) checkPushPermission(ref string) error {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	err = remote.CheckPushPermission(r, b.keychain, registryTransport())
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		host := r.Context().RegistryStr()
		return fmt.Errorf("%w: %s; check the credentials for %s in the Docker config (docker login %s)", ErrUnauthorized, http.StatusText(terr.StatusCode), host, host)
	}
	return nil
}

// push pushes ref once and returns the digest the engine reports.
func (b *Builder) push(ctx context.Context, service, ref string, creds credentials) (string, error) {
	progress.Report(ctx, "image:"+service, "push", progress.Working, "pushing "+ref, nil)
	rc, err := b.client.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: creds.header})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var digest string
	err = readStream(rc, func(m message) {
		if len(m.Aux) > 0 {
			var r types.PushResult
			if json.Unmarshal(m.Aux, &r) == nil && r.Digest != "" {
				digest = r.Digest
			}
			return
		}
		if d := pushedDigest(m.Status); d != "" && digest == "" {
			digest = d
		}
		if l := statusLine(m); l != "" {
			progress.Report(ctx, "image:"+service, "push", progress.Working, l, nil)
		}
	})
	if err != nil {
		return "", err
	}
	if digest == "" {
		return "", errors.New("the engine reported no digest for the push")
	}
	return digest, nil
}

// registryHost is the registry part of an image name.
func registryHost(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.Domain(named)
}

// The engine relays registry failures as text (Docker 29 as the
// registry's error code: "error from registry: unavailable"). Status codes
// are matched as whole words so that a digest's hex digits never look like
// one.
var (
	authFailure      = regexp.MustCompile(`(?i)unauthorized|authentication required|no basic auth credentials|denied|forbidden|\b40[13]\b`)
	transientFailure = regexp.MustCompile(`(?i)connection refused|connection reset|broken pipe|\bEOF\b|timeout|\bunavailable\b|too many requests|toomanyrequests|bad gateway|internal server error|\b(429|500|502|503|504)\b`)
)

// isAuthError recognises the registry's refusals as the engine words them.
func isAuthError(msg string) bool { return authFailure.MatchString(msg) }

// isTransient recognises failures worth another attempt: the registry or
// the network failing, not the request being wrong.
func isTransient(msg string) bool { return transientFailure.MatchString(msg) }

// pushedStatus is the last status line of a push: "TAG: digest: sha256:...
// size: N". An engine with the containerd image store (Docker 29) reports
// the digest there only, with no aux message.
var pushedStatus = regexp.MustCompile(`^\S+: digest: (sha256:[0-9a-f]{64}) size: [0-9]+$`)

// pushedDigest is the digest a push's status line reports, or "".
func pushedDigest(status string) string {
	if m := pushedStatus.FindStringSubmatch(status); m != nil {
		return m[1]
	}
	return ""
}
