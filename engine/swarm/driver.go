package swarm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
)

// Driver converges projects on a Docker Swarm through one of its managers:
// each compose service a Swarm service, rolled out by Swarm's own updates.
// It implements engine.Driver, engine.Hasher and the capabilities ps, logs,
// events, stats (from the nodes' own engines: nodes.go), run (a one-off as
// a job) and exec (which says where to run the command: a manager cannot
// reach into a node's containers).
//
// Images are built on the local engine and pushed to a registry every node
// pulls from (Images); services run them by digest (Resolve).
type Driver struct {
	client   Client
	host     string
	images   Images
	local    image.Inspector
	keychain authn.Keychain
	// nodeImages resolves and reads the images the nodes pull (with
	// images, local and keychain), caching what it read by digest.
	nodeImages *image.NodeImages

	// nodeHosts say where nodes' own engines answer (nodes.go).
	nodeHosts    map[string]string
	nodeHostsErr error
	nodeStats    NodeStats

	mu         sync.Mutex
	apiVersion string
}

var (
	_ engine.Driver = (*Driver)(nil)
	_ engine.Hasher = (*Driver)(nil)
	_ engine.Runner = (*Driver)(nil)
	_ engine.Execer = (*Driver)(nil)
	_ engine.Logger = (*Driver)(nil)
	_ engine.Lister = (*Driver)(nil)
	_ engine.Locker = (*Driver)(nil)

	_ engine.StatsReader  = (*Driver)(nil)
	_ engine.EventWatcher = (*Driver)(nil)
)

// Images builds, pushes and holds the credentials for the images of a
// project, on the engine that builds them (not the manager):
// *image.Builder implements it.
type Images interface {
	Ensure(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error)
	Push(ctx context.Context, p *manifest.Project, services []string) ([]image.Pushed, error)
	PushIDs(ctx context.Context, ups []image.Upload) ([]image.Pushed, error)
	RegistryAuth(ctx context.Context, ref string) (string, error)
}

// Option configures New.
type Option func(*Driver)

// WithClient makes the driver talk to the manager through c. Default: a
// client of the engine at WithHost's address.
func WithClient(c Client) Option { return func(d *Driver) { d.client = c } }

// WithHost names a manager's engine: unix://, tcp:// or ssh://. Default: the
// one DOCKER_HOST or the current docker context names.
func WithHost(host string) Option { return func(d *Driver) { d.host = host } }

// WithImages sets what builds and pushes images, and local the engine it
// builds on (for what an image declares, and the digests it was pushed
// under). Required for services with build: and for image facts the
// registry does not serve.
func WithImages(images Images, local image.Inspector) Option {
	return func(d *Driver) { d.images, d.local = images, local }
}

// NodeStats opens the stats of one node's own engine through c (the
// manager's own client, for the manager's node, or a client of a node
// NodeHostsEnv names): a driver of that one engine.
type NodeStats func(c Client) (engine.StatsReader, error)

// WithNodeStats sets how Stats reads a node's own engine, which a manager
// does not answer for. Without it, stats says the nodes cannot be read.
func WithNodeStats(open NodeStats) Option { return func(d *Driver) { d.nodeStats = open } }

// WithKeychain sets where registry credentials come from, to resolve image
// digests and read image configs. Default: authn.DefaultKeychain (the
// Docker config).
func WithKeychain(k authn.Keychain) Option { return func(d *Driver) { d.keychain = k } }

// New returns a driver, connecting to its manager unless WithClient is
// given.
func New(opts ...Option) (*Driver, error) {
	d := &Driver{keychain: authn.DefaultKeychain}
	for _, o := range opts {
		o(d)
	}
	if d.keychain == nil {
		return nil, errors.New("swarm driver: nil keychain")
	}
	d.nodeImages = image.NewNodeImages(d.images, d.local, d.keychain, "the Swarm nodes")
	d.nodeHostsFromEnv()
	if d.client == nil {
		c, err := dockerclient.NewForHost(d.host)
		if err != nil {
			return nil, fmt.Errorf("connecting to the Swarm manager: %w", err)
		}
		d.client = c
	}
	return d, nil
}

// Name is "swarm".
func (d *Driver) Name() string { return "swarm" }

// version negotiates the manager's API version once and returns it.
func (d *Driver) version(ctx context.Context) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.apiVersion == "" {
		d.client.NegotiateAPIVersion(ctx)
		d.apiVersion = d.client.ClientVersion()
	}
	return d.apiVersion
}

// Locks are containers on the manager: a project's deploy lock lives where
// it deploys, so two runners deploying to one cluster take turns.
func (d *Driver) Locks() lock.Locks { return lock.OnEngine(d.client) }

// CreateOnly refuses: a Swarm service's tasks start when it is created.
func (d *Driver) CreateOnly(*engine.Plan) error {
	return fmt.Errorf("stack create: %w by the swarm orchestrator: a Swarm service starts its tasks when it is created; `stack up` creates and starts it", engine.ErrUnsupported)
}
