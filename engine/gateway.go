package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stack-deploy/stack/manifest"
)

// GatewayResource is the plan's resource of the project's gateway.
const GatewayResource = "gateway"

// GatewaySpec is what the gateway's container is made from; its hash is on
// the container, so a change recreates it. The routes are not part of it:
// they are loaded into the running gateway.
type GatewaySpec struct {
	Image string   `json:"image"`
	Ports []string `json:"ports"`
	// Networks are the engine names of the networks of the routed
	// services: the gateway reaches them there.
	Networks []string `json:"networks"`
	// RoutesHash is the hash of the routes loaded into it: not part of the
	// container's hash.
	RoutesHash string `json:"-"`
}

// DesiredGateway returns the gateway m asks for and the hash of its routes;
// nil when m has no gateway.
func DesiredGateway(m *manifest.Project) (*GatewaySpec, string, error) {
	g := m.Stack.Gateway
	if g == nil {
		return nil, "", nil
	}
	spec := &GatewaySpec{Image: g.Image, Ports: append([]string(nil), g.Ports...)}
	if spec.Image == "" {
		spec.Image = manifest.DefaultGatewayImage
	}
	nets := map[string]bool{}
	routes := m.GatewayRoutes()
	for _, r := range routes {
		for _, s := range r.Reaches() {
			for _, key := range ServiceNetworks(m.Project.Services[s]) {
				if n, ok := m.Project.Networks[key]; ok {
					nets[n.Name] = true
				}
			}
		}
	}
	spec.Ports = append(spec.Ports, gatewayMetricsPort(g)...)
	for n := range nets {
		spec.Networks = append(spec.Networks, n)
	}
	sort.Strings(spec.Networks)
	h, err := routesHash(g, routes)
	if err != nil {
		return nil, "", err
	}
	spec.RoutesHash = h
	return spec, h, nil
}

// diffGateway plans the gateway: created, recreated when its container's
// spec changed (image, ports, networks), reloaded when only its routes did,
// removed when the manifest has none any more.
func diffGateway(m *manifest.Project, spec *GatewaySpec, obs *Observed) (*Action, error) {
	var routes string
	if spec != nil {
		routes = spec.RoutesHash
	}
	if spec == nil {
		if obs.Gateway == nil {
			return nil, nil
		}
		return &Action{Resource: GatewayResource, Kind: Remove, Reason: "no gateway in the manifest"}, nil
	}
	h, err := ResourceHash(spec)
	if err != nil {
		return nil, err
	}
	a := &Action{Resource: GatewayResource, Kind: Unchanged, ConfigHash: h, Ready: Started}
	for _, n := range spec.Networks {
		for key, cfg := range m.Project.Networks {
			if cfg.Name == n && !bool(cfg.External) {
				a.WaitsFor = append(a.WaitsFor, "network:"+key)
			}
		}
	}
	sort.Strings(a.WaitsFor)
	on := "on " + strings.Join(spec.Ports, ", ")
	switch g := obs.Gateway; {
	case g == nil:
		a.Kind, a.Reason = Create, "new gateway "+on+": "+routeList(m)
	case g.Container.Hash != h:
		a.Kind, a.Reason = Recreate, "image, ports or networks changed; "+on
	case !g.Container.Running():
		a.Kind, a.Reason = Start, g.Container.NotRunning()
	case g.RoutesHash != routes:
		a.Kind, a.Reason = Reload, "routes changed: "+routeList(m)
	}
	return a, nil
}

// routeList names the routes for a plan line: "/api -> api:8080, ...".
func routeList(m *manifest.Project) string {
	var parts []string
	for _, r := range m.GatewayRoutes() {
		parts = append(parts, fmt.Sprintf("%s%s -> %s:%d", r.Host, r.Path, r.Service, r.Port))
	}
	return strings.Join(parts, ", ")
}
