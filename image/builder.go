package image

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/authn"
)

// Builder builds, pulls and pushes the images of a project. It is safe for
// concurrent use.
type Builder struct {
	client   Client
	keychain authn.Keychain
	parallel int
	attempts int
	backoff  time.Duration
	// checkPush is the pre-push credentials check; unit tests replace it
	// to stay off the network.
	checkPush func(ref string) error
}

// Option configures a Builder.
type Option func(*Builder)

// WithClient sets the engine client. Default: a client from the environment
// (DOCKER_HOST, DOCKER_CERT_PATH, ...) negotiating the API version.
func WithClient(c Client) Option { return func(b *Builder) { b.client = c } }

// WithKeychain sets where registry credentials come from. Default:
// authn.DefaultKeychain, which reads the Docker config ($DOCKER_CONFIG or
// ~/.docker/config.json: auths and credential helpers) as docker does.
func WithKeychain(k authn.Keychain) Option { return func(b *Builder) { b.keychain = k } }

// WithParallelism bounds how many builds, pulls or pushes run at once.
// Default: the number of CPUs, at least 2.
func WithParallelism(n int) Option { return func(b *Builder) { b.parallel = n } }

// WithRetries sets how many times a push is attempted when the registry
// fails transiently, and the wait before the first retry (doubled each
// time). Default: 3 attempts, 500ms.
func WithRetries(attempts int, backoff time.Duration) Option {
	return func(b *Builder) { b.attempts, b.backoff = attempts, backoff }
}

// New returns a Builder with the options applied over the defaults.
func New(opts ...Option) (*Builder, error) {
	b := &Builder{
		keychain: authn.DefaultKeychain,
		parallel: max(2, runtime.NumCPU()),
		attempts: 3,
		backoff:  500 * time.Millisecond,
	}
	for _, o := range opts {
		o(b)
	}
	if b.parallel < 1 {
		return nil, fmt.Errorf("image builder: parallelism %d: use 1 or more", b.parallel)
	}
	if b.attempts < 1 || b.backoff < 0 {
		return nil, fmt.Errorf("image builder: %d attempts with %v backoff: use 1 or more attempts and a backoff of 0 or more", b.attempts, b.backoff)
	}
	if b.keychain == nil {
		return nil, errors.New("image builder: nil keychain")
	}
	b.checkPush = b.checkPushPermission
	if b.client == nil {
		c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		b.client = c
	}
	return b, nil
}
