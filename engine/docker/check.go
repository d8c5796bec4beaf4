package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/versions"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Check maps every named service of p (all when none) to the Engine API
// without changing anything: an error names the file, the service and the
// field the engine would refuse; the warnings, by resource ("service:web",
// "network:default"), the fields it cannot honour (ignored when applied).
// It runs before any image is built or pulled.
func (d *Driver) Check(ctx context.Context, p *manifest.Project, services []string) (engine.Warnings, error) {
	d.client.NegotiateAPIVersion(ctx)
	return check(p, services, d.client.ClientVersion())
}

func check(p *manifest.Project, services []string, apiVersion string) (engine.Warnings, error) {
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	warnings := engine.Warnings{}
	var errs []error
	networks := map[string]bool{}
	for _, name := range services {
		svc, ok := p.Project.Services[name]
		if !ok {
			continue
		}
		fws, ferrs := checkFiles(p, svc)
		errs = append(errs, ferrs...)
		ws := fws
		if len(ferrs) == 0 {
			_, sws, err := containerSpec(p.Project, svc, map[string]string{}, apiVersion)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", strings.Join(p.ComposeFiles, ", "), err))
			}
			ws = append(sws, fws...)
		}
		if len(ws) > 0 {
			warnings["service:"+name] = ws
		}
		for _, n := range engine.ServiceNetworks(svc) {
			networks[n] = true
		}
	}
	for key := range networks {
		if n, ok := p.Project.Networks[key]; ok && n.EnableIPv4 != nil && versions.LessThan(apiVersion, "1.47") {
			warnings["network:"+key] = append(warnings["network:"+key],
				fmt.Sprintf("network %q: enable_ipv4 needs Engine API 1.47, the engine speaks %s; it is ignored", key, apiVersion))
		}
	}
	return warnings, errors.Join(errs...)
}
