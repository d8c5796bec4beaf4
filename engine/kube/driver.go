package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// Driver converges projects on a Kubernetes cluster: each compose service
// the objects Map makes of it, server-side applied with field manager
// FieldManager into the project's namespace (Namespace), and waited for as
// `kubectl rollout status` waits. It implements engine.Driver,
// engine.Hasher, engine.Locker (a coordination.k8s.io Lease) and
// engine.Runner (run.go), and the verbs' Lister, Logger, Execer,
// EventWatcher and StatsReader.
//
// Images are built on the local engine and pushed to the environment's
// registry, which the nodes pull from, and pods run them by digest: the
// Images of WithImages does that, as for a Swarm.
type Driver struct {
	client    kubernetes.Interface
	context   string
	config    *rest.Config
	images    Images
	namespace string
	// listed are the pods Ps listed last (images.go).
	listed listed
}

var (
	_ engine.Driver = (*Driver)(nil)
	_ engine.Hasher = (*Driver)(nil)
	_ engine.Locker = (*Driver)(nil)
)

// Images makes the images of a project ready for the nodes (built, pushed,
// pinned by digest) and says what they declare: *image.NodeImages does
// both, over the local engine and the registry.
type Images interface {
	Resolve(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error)
	Facts(ctx context.Context, p *manifest.Project) (image.Facts, error)
}

// Option configures New.
type Option func(*Driver)

// WithClient makes the driver talk to the cluster through c. Default: a
// client from the kubeconfig as kubectl reads it (KUBECONFIG, else
// ~/.kube/config, else in-cluster), its context WithContext's.
func WithClient(c kubernetes.Interface) Option { return func(d *Driver) { d.client = c } }

// WithContext names the kubeconfig context of the cluster (an
// environment's context:). Default: the kubeconfig's current context.
func WithContext(name string) Option { return func(d *Driver) { d.context = name } }

// WithImages sets what builds, pushes and reads the images. Default: none;
// services then run their images as named, and image facts are unknown.
func WithImages(i Images) Option { return func(d *Driver) { d.images = i } }

// WithNamespace puts every project in namespace ns, whatever its
// environment says: for tests. Default: Namespace(p).
func WithNamespace(ns string) Option { return func(d *Driver) { d.namespace = ns } }

// New returns a driver, with a client of the kubeconfig's cluster unless
// WithClient is given.
func New(opts ...Option) (*Driver, error) {
	d := &Driver{}
	for _, o := range opts {
		o(d)
	}
	if d.client != nil {
		return d, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: d.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig (context %q): %w", d.context, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "stack"
	if d.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("connecting to the Kubernetes cluster: %w", err)
	}
	d.config = cfg
	return d, nil
}

// Name is "kubernetes".
func (d *Driver) Name() string { return manifest.OrchestratorKubernetes }

// Client is the driver's client of the cluster.
func (d *Driver) Client() kubernetes.Interface { return d.client }

// Namespace is the namespace of p's objects: the environment's namespace:,
// else the project's name (shop-prod for environment prod of shop).
func Namespace(p *manifest.Project) string {
	if p.Env != nil && p.Env.Namespace != "" {
		return p.Env.Namespace
	}
	return p.Name
}

// namespaceOf is where the driver puts p.
func (d *Driver) namespaceOf(p *manifest.Project) string {
	if d.namespace != "" {
		return d.namespace
	}
	return Namespace(p)
}

// mapProject maps p as it is deployed by this driver.
func (d *Driver) mapProject(p *manifest.Project) (*Objects, engine.Warnings, error) {
	return Map(p, Options{Namespace: d.namespace})
}

// Check maps the project: every field Kubernetes refuses is an error naming
// file, line, service and field, before anything changes; those it cannot
// honour are warnings. services narrows the warnings to those named.
func (d *Driver) Check(_ context.Context, p *manifest.Project, services []string) (engine.Warnings, error) {
	_, warnings, err := d.mapProject(p)
	if err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return warnings, nil
	}
	out := engine.Warnings{}
	for r, w := range warnings {
		typ, name, _ := strings.Cut(r, ":")
		if typ != "service" || containsString(services, name) {
			out[r] = w
		}
	}
	return out, nil
}

// Facts says what the images declare: their EXPOSE ports (REDIS_PORT) and
// whether they have a HEALTHCHECK, read from the engine that built them or
// from their registry. A service's host is its name: its Service resolves
// through cluster DNS.
func (d *Driver) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	if d.images != nil {
		return d.images.Facts(ctx, p)
	}
	return image.InspectFacts(ctx, nil, p)
}

// Resolve builds, pushes and pins the images of services (all when none),
// and the gateway's: deploy's Ensure for a cluster.
func (d *Driver) Resolve(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error) {
	if d.images == nil {
		return nil, errors.New("the Kubernetes driver has no image resolver (WithImages): it cannot build or push images")
	}
	refs, err := d.images.Resolve(ctx, p, services, o)
	if err != nil {
		return nil, err
	}
	if err := d.resolveGateway(ctx, p, o); err != nil {
		return nil, fmt.Errorf("resolving the gateway's image: %w", err)
	}
	return refs, nil
}

// ConfigHashes sets each service's hash to the one its pod template
// carries: the service as mapped, its secrets' and configs' contents
// included.
func (d *Driver) ConfigHashes(p *manifest.Project, images engine.Images) (engine.Images, error) {
	objs, _, err := d.mapProject(p)
	if err != nil {
		return nil, err
	}
	hashes := map[string]engine.Hash{}
	for _, s := range objs.Services {
		hashes[s.Name] = s.Hash
	}
	return images.WithHashes(hashes), nil
}
