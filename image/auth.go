package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/registry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// credentials are the X-Registry-Auth header value for one image reference
// and the secrets in it, which errors must never show.
type credentials struct {
	header  string
	secrets []string
}

// credentialsFor resolves ref's registry in the keychain and encodes what it
// finds as the engine's X-Registry-Auth; anonymous gives an empty header.
func (b *Builder) credentialsFor(ctx context.Context, ref string) (credentials, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return credentials{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	a, err := authn.Resolve(ctx, b.keychain, r.Context())
	if err != nil {
		return credentials{}, fmt.Errorf("reading credentials for %s from the Docker config: %w", r.Context().RegistryStr(), err)
	}
	if a == authn.Anonymous {
		return credentials{}, nil
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return credentials{}, fmt.Errorf("reading credentials for %s from the Docker config: %w", r.Context().RegistryStr(), err)
	}
	header, err := registry.EncodeAuthConfig(registry.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
		ServerAddress: r.Context().RegistryStr(),
	})
	if err != nil {
		return credentials{}, fmt.Errorf("encoding credentials for %s: %w", r.Context().RegistryStr(), err)
	}
	c := credentials{header: header}
	for _, s := range []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken, header} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	return c, nil
}

// RegistryAuth is the X-Registry-Auth value the Docker config's credentials
// for ref's registry give ("" when it has none): what a Swarm manager is
// handed with a service, as docker's --with-registry-auth does, so that
// every node can pull a private image.
func (b *Builder) RegistryAuth(ctx context.Context, ref string) (string, error) {
	c, err := b.credentialsFor(ctx, ref)
	return c.header, err
}

// redact replaces any secret in msg: registries and engines should not echo
// credentials, but an error message is no place to find out they did.
func (c credentials) redact(msg string) string {
	for _, s := range c.secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

// redactErr is err with any secret replaced in its message; errors.Is and
// errors.As still see the cause (a cancelled context, say).
func (c credentials) redactErr(err error) error {
	return &redactedError{msg: c.redact(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
