package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/stack-deploy/stack/internal/dockerclient"
	"github.com/stack-deploy/stack/progress"
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

	// bk is the engine's BuildKit (WithBuildKit, or connected on the first
	// build); classic, when set, says why builds use the classic builder.
	bkMu    sync.Mutex
	bk      BuildKit
	bkInfo  *buildKitInfo
	classic string
}

// Option configures a Builder.
type Option func(*Builder)

// WithClient sets the engine client. Default: a client from the environment
// (DOCKER_HOST, DOCKER_CERT_PATH, ...) negotiating the API version.
func WithClient(c Client) Option { return func(b *Builder) { b.client = c } }

// WithBuildKit sets the BuildKit client builds go through. Default: the
// engine's own, connected on the first build (ConnectBuildKit); when the
// engine runs none, or DOCKER_BUILDKIT is 0 or false as it is for docker,
// builds use the engine's classic builder, with a warning saying what it
// cannot do.
func WithBuildKit(bk BuildKit) Option { return func(b *Builder) { b.bk = bk } }

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
	if v, err := strconv.ParseBool(os.Getenv("DOCKER_BUILDKIT")); err == nil && !v && b.bk == nil {
		b.classic = "DOCKER_BUILDKIT=" + os.Getenv("DOCKER_BUILDKIT")
	}
	if b.client == nil {
		c, err := dockerclient.New()
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		b.client = c
	}
	return b, nil
}

// builder returns what runs the builds: the engine's BuildKit, connected and
// inspected once, or its classic builder when it runs none. Taking the
// classic builder is reported as a warning naming what it cannot do.
func (b *Builder) builder(ctx context.Context) (builder, error) {
	b.bkMu.Lock()
	defer b.bkMu.Unlock()
	connected := false // by this call, to the engine's BuildKit: b.client answers
	if b.bk == nil && b.classic == "" {
		bk, err := ConnectBuildKit(ctx, b.client)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, ErrNoBuildKit):
			b.classic = err.Error()
		case err != nil:
			return nil, err
		default:
			b.bk, connected = bk, true
		}
	}
	if b.classic != "" {
		progress.Report(ctx, "builder", "connect", progress.Warning, "building with the engine's classic builder ("+b.classic+"), "+classicNote, nil)
		return &classicBuilder{client: b.client}, nil
	}
	if b.bkInfo == nil {
		info, err := inspectBuildKit(ctx, b.bk)
		if err != nil {
			return nil, err
		}
		if connected {
			if ping, err := b.client.Ping(ctx); err == nil {
				info.apiVersion = ping.APIVersion
			}
		}
		b.bkInfo = info
	}
	return &buildKitBuilder{bk: b.bk, info: b.bkInfo, keychain: b.keychain}, nil
}
