package manifest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// DefaultGatewayImage is the proxy the gateway runs unless x-stack.gateway
// names another image of it.
const DefaultGatewayImage = "caddy:2"

// Gateway is x-stack.gateway: the project's one entry point for its HTTP
// services, a Caddy proxy that stack configures from the services' routes.
type Gateway struct {
	// Ports are published on the gateway, in compose's short syntax
	// ("80:80", "127.0.0.1:8080:80"); the container side is where it listens.
	Ports []string `yaml:"ports" json:"ports"`
	// Image is a Caddy 2 image; default caddy:2.
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// TLS serves the routes over HTTPS (gateway_tls.go); nil: plain HTTP.
	TLS *GatewayTLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// Metrics publishes the gateway's metrics for a Prometheus scraper.
	Metrics *GatewayMetrics `yaml:"metrics,omitempty" json:"metrics,omitempty"`
}

// Route sends the requests that match it to a service's containers.
type Route struct {
	// Path matches a path prefix: /api matches /api and /api/...; empty:
	// every path.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Host matches the request's host; empty: any host.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// Port is the service's port requests go to; default its first expose
	// or ports target.
	Port int `yaml:"port,omitempty" json:"port,omitempty"`
	// StripPrefix removes Path from the request before it is sent on.
	StripPrefix bool `yaml:"strip_prefix,omitempty" json:"strip_prefix,omitempty"`
	// Health is a path the gateway asks every few seconds; a container
	// that does not answer 2xx gets no traffic until it does.
	Health string `yaml:"health,omitempty" json:"health,omitempty"`
	// What the gateway does before sending a request on (gateway_route.go).
	RoutePolicy `yaml:",inline"`
}

// Routes are a service's routes: x-stack.route takes one route or a list.
type Routes []Route

// UnmarshalYAML takes a single route or a list of them.
func (r *Routes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var one Route
		if err := decodeNode(n, &one); err != nil {
			return err
		}
		*r = Routes{one}
		return nil
	}
	var many []Route
	if err := decodeNode(n, &many); err != nil {
		return err
	}
	*r = many
	return nil
}

// decodeNode decodes n into out refusing unknown keys, as decodeStrict does
// for a whole block: a custom unmarshaler inherits no KnownFields.
func decodeNode(n *yaml.Node, out any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	return decodeKnown(b, out)
}

// ServiceRoute is one route with the service it sends to and the port
// resolved.
type ServiceRoute struct {
	Route
	Service string `json:"service"`
}

// GatewayRoutes returns every route of the project's services, each with
// its port resolved, in the order the gateway matches them: longer paths
// first, then by host, path and service. Load has validated them.
func (p *Project) GatewayRoutes() []ServiceRoute {
	var out []ServiceRoute
	for _, name := range p.ServiceNames() {
		for _, r := range p.Services[name].Route {
			if r.Port == 0 {
				r.Port = routePort(p.Project.Services[name])
			}
			if a := r.Auth; a != nil && a.Forward != nil {
				f := *a.Forward
				f.Port = p.ForwardPort(&f)
				r.Auth = &RouteAuth{Basic: a.Basic, Forward: &f}
			}
			out = append(out, ServiceRoute{Route: r, Service: name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case len(a.Path) != len(b.Path):
			return len(a.Path) > len(b.Path)
		case a.Host != b.Host:
			return a.Host < b.Host
		case a.Path != b.Path:
			return a.Path < b.Path
		}
		return a.Service < b.Service
	})
	return out
}

// routePort is a service's first expose or ports target; 0 when it has none.
func routePort(s types.ServiceConfig) int {
	if len(s.Expose) > 0 {
		var port int
		if _, err := fmt.Sscanf(strings.Split(s.Expose[0], "/")[0], "%d", &port); err == nil {
			return port
		}
	}
	if len(s.Ports) > 0 {
		return int(s.Ports[0].Target)
	}
	return 0
}

// checkGateway validates x-stack.gateway and every route: a route needs the
// gateway, a path starting with / or a host, and a port; gateway ports parse.
func (p *Project) checkGateway(ps *problems) {
	g := p.Stack.Gateway
	if g != nil {
		if len(g.Ports) == 0 {
			e := p.ErrorAt("", ExtensionKey+".gateway.ports")
			e.Problem, e.Fix, e.Err = "the gateway publishes no port", `add ports: ["80:80"]`, ErrInvalid
			ps.add(e)
		}
		for i, port := range g.Ports {
			if _, err := types.ParsePortConfig(port); err != nil {
				e := p.ErrorAt("", fmt.Sprintf("%s.gateway.ports[%d]", ExtensionKey, i))
				e.Problem, e.Fix, e.Err = fmt.Sprintf("%q: %v", port, err), `write HOST_PORT:CONTAINER_PORT, e.g. "80:80"`, ErrInvalidPort
				ps.add(e)
			}
		}
		p.checkGatewayTLS(ps)
	}
	for _, name := range p.ServiceNames() {
		for i, r := range p.Services[name].Route {
			field := fmt.Sprintf("%s.route[%d]", ExtensionKey, i)
			bad := func(problem, fix string) {
				e := p.ErrorAt(name, field)
				e.Problem, e.Fix, e.Err = problem, fix, ErrInvalid
				ps.add(e)
			}
			switch {
			case g == nil:
				bad("a route, but the project has no gateway", `add x-stack.gateway: {ports: ["80:80"]} at the top level`)
			case r.Path == "" && r.Host == "":
				bad("the route matches nothing", "give it a path (path: /api) or a host (host: api.example.com)")
			case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
				bad(fmt.Sprintf("path %q does not start with /", r.Path), "write it as /"+r.Path)
			case r.Port == 0 && routePort(p.Project.Services[name]) == 0:
				bad("no port to send requests to", "give the route a port (port: 8080), or the service an expose entry")
			case r.StripPrefix && r.Path == "":
				bad("strip_prefix without a path", "give the route a path, or drop strip_prefix")
			default:
				p.checkRoutePolicy(ps, name, i)
			}
		}
	}
}
