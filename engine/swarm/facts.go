package swarm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Facts answers envinject's questions for a Swarm (a service is reachable
// under its service name on the overlay networks it shares with its
// dependants: the alias every task has there) and says which images declare
// a HEALTHCHECK. An image's config comes from the local engine when it has
// the image (one just built), else from its registry, where the nodes will
// pull it: no image is pulled to learn its ports. An image neither has is
// unknown (not built or copied yet); a registry that cannot be asked is
// reported as a warning, and its images are unknown too.
func (d *Driver) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	f := swarmFacts{}
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

type imageFacts struct {
	known       bool
	ports       []string
	healthcheck bool
}

// swarmFacts holds the image facts by service name.
type swarmFacts map[string]imageFacts

func (swarmFacts) Host(service string) string { return service }

func (f swarmFacts) ImagePorts(service string) []string { return f[service].ports }

func (f swarmFacts) ImageHealthcheck(service string) (bool, bool) {
	return f[service].healthcheck, f[service].known
}

// imageFacts reads what image ref declares, once per digest reference (it
// never changes) in the driver's life.
func (d *Driver) imageFacts(ctx context.Context, ref string) (imageFacts, error) {
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
	if isDigest(ref) {
		d.mu.Lock()
		d.facts[ref] = facts
		d.mu.Unlock()
	}
	return facts, nil
}

// remoteConfig reads image ref's config from its registry (for this
// machine's platform when ref is an index); nil when the registry has no
// such image.
func (d *Driver) remoteConfig(ctx context.Context, ref string) (*v1.Config, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return nil, nil // not a name a registry could hold: unknown
	}
	img, err := remote.Image(r, d.remoteOptions(ctx)...)
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
