package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// unresolved stands for an image whose digest is not known yet (Check runs
// before anything is built; `stack plan` builds nothing): the mapping of
// everything else can be judged without it, and a hash made with it differs
// from every real one.
const unresolved = "stack.invalid/unresolved@sha256:0000000000000000000000000000000000000000000000000000000000000000"

// Check maps the named services of p (all when none) without changing
// anything, before any image is built: the manager must be one (a worker
// cannot deploy), every field must map (the error names the file, service
// and field), and a service that builds needs an image name with a registry
// for the nodes to pull it from. The warnings, by resource, name the fields
// Swarm cannot honour.
func (d *Driver) Check(ctx context.Context, p *manifest.Project, services []string) (engine.Warnings, error) {
	info, err := d.client.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking the Swarm manager: %w", err)
	}
	if !info.Swarm.ControlAvailable {
		state := string(info.Swarm.LocalNodeState)
		if state == "" {
			state = "not in a swarm"
		}
		return nil, fmt.Errorf("%w: the engine %s (%s) is %s, not a manager: point the environment's host at a manager (docker node ls lists them), or start a swarm there with docker swarm init",
			ErrNotManager, info.Name, d.hostName(), state)
	}
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	var errs []error
	for _, name := range services {
		s := p.Project.Services[name]
		if s.Build == nil || image.HasRegistry(p.ImageName(name)) {
			continue
		}
		e := p.ErrorAt(name, "build")
		e.Problem = fmt.Sprintf("it builds image %s, which names no registry the Swarm nodes could pull it from", p.ImageName(name))
		e.Fix = "set the environment's registry (x-stack.environments.<env>.registry), or image: <registry>/" + p.ImageName(name)
		e.Err = image.ErrNoRegistry
		errs = append(errs, e)
	}
	desired, err := Map(p.Project, Options{Images: placeholders(p, nil), APIVersion: d.version(ctx)})
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", strings.Join(p.ComposeFiles, ", "), err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return warnings(p, desired.Warnings, services), nil
}

// hostName is the manager's address for messages.
func (d *Driver) hostName() string {
	if h, ok := d.client.(interface{ DaemonHost() string }); ok {
		return h.DaemonHost()
	}
	return d.host
}

// placeholders gives every service the digest reference it runs: its own
// image when that is one (resolved, or pinned by a lock), known[service]
// when given, else unresolved.
func placeholders(p *manifest.Project, known map[string]string) map[string]string {
	out := map[string]string{}
	for _, name := range p.ServiceNames() {
		switch ref := p.ImageName(name); {
		case known[name] != "":
			out[name] = known[name]
		case image.IsDigest(ref):
			out[name] = ref
		default:
			out[name] = unresolved
		}
	}
	return out
}

// warnings files the mapping's warnings by resource, as deploy reports
// them: a service's under service:<name>, a top-level network's or volume's
// under its own, and a secret's or config's under each selected service
// that mounts it.
func warnings(p *manifest.Project, ws []Warning, services []string) engine.Warnings {
	out := engine.Warnings{}
	for _, w := range ws {
		if w.Service != "" {
			if slices.Contains(services, w.Service) {
				out["service:"+w.Service] = append(out["service:"+w.Service], w.String())
			}
			continue
		}
		kind, rest, _ := strings.Cut(w.Field, ".")
		key, _, _ := strings.Cut(rest, ".")
		switch kind {
		case "networks", "volumes":
			r := strings.TrimSuffix(kind, "s") + ":" + key
			out[r] = append(out[r], w.String())
		case "secrets", "configs":
			for _, name := range services {
				if mounts(p, name, kind, key) {
					out["service:"+name] = append(out["service:"+name], w.String())
				}
			}
		}
	}
	return out
}

// mounts reports whether service mounts the secret or config (kind) key.
func mounts(p *manifest.Project, service, kind, key string) bool {
	s := p.Project.Services[service]
	if kind == "secrets" {
		return slices.ContainsFunc(s.Secrets, func(r types.ServiceSecretConfig) bool { return r.Source == key })
	}
	return slices.ContainsFunc(s.Configs, func(r types.ServiceConfigObjConfig) bool { return r.Source == key })
}
