package manifest

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// GatewayTLS is x-stack.gateway.tls: "internal" (Caddy's own CA, whose
// certificate `stack gateway ca` prints) or {acme: {email: ...}} (public
// hosts, certificates from Let's Encrypt). The gateway then serves HTTPS on
// its container port 443 and redirects its other ports there.
type GatewayTLS struct {
	Internal bool  `yaml:"internal,omitempty" json:"internal,omitempty"`
	ACME     *ACME `yaml:"acme,omitempty" json:"acme,omitempty"`
}

// ACME is how the gateway obtains public certificates.
type ACME struct {
	Email string `yaml:"email" json:"email"`
	// CA is the ACME directory; default Let's Encrypt's.
	CA string `yaml:"ca,omitempty" json:"ca,omitempty"`
}

// UnmarshalYAML takes "internal" or a mapping.
func (t *GatewayTLS) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "internal" {
			return fmt.Errorf("tls: %q: write internal or {acme: {email: ...}}", n.Value)
		}
		*t = GatewayTLS{Internal: true}
		return nil
	}
	type plain GatewayTLS
	var v plain
	if err := decodeNode(n, &v); err != nil {
		return err
	}
	*t = GatewayTLS(v)
	return nil
}

// GatewayMetrics publishes the gateway's metrics in Prometheus' format.
type GatewayMetrics struct {
	// Port is the host port (and the gateway's container port) /metrics is
	// served on, on the address of the gateway's first port.
	Port int `yaml:"port" json:"port"`
}

// checkGatewayTLS validates tls and metrics: TLS needs a container port
// 443 to serve on, ACME an email; the metrics port is not one of the
// gateway's.
func (p *Project) checkGatewayTLS(ps *problems) {
	g := p.Stack.Gateway
	bad := func(field, problem, fix string) {
		e := p.ErrorAt("", ExtensionKey+".gateway."+field)
		e.Problem, e.Fix, e.Err = problem, fix, ErrInvalid
		ps.add(e)
	}
	targets := map[uint32]bool{}
	for _, port := range g.Ports {
		pcs, _ := types.ParsePortConfig(port)
		for _, pc := range pcs {
			targets[pc.Target] = true
		}
	}
	if t := g.TLS; t != nil {
		switch {
		case t.Internal == (t.ACME != nil):
			bad("tls", "neither or both of internal and acme", "write tls: internal, or tls: {acme: {email: you@example.com}}")
		case t.ACME != nil && !strings.Contains(t.ACME.Email, "@"):
			bad("tls.acme.email", fmt.Sprintf("%q is not an email address", t.ACME.Email), "give the address Let's Encrypt writes to about the certificates")
		case t.ACME != nil && !p.routeHosts():
			bad("tls.acme", "ACME, but no route has a host to certify", "give the routes their public host (host: api.example.com), or use tls: internal")
		case len(g.Ports) > 0 && !targets[443]:
			bad("tls", "TLS, but no port of the gateway's is its container port 443", `publish one, e.g. ports: ["443:443", "80:80"] (80 then redirects to HTTPS)`)
		}
	}
	if m := g.Metrics; m != nil {
		switch {
		case m.Port <= 0 || m.Port > 65535:
			bad("metrics.port", fmt.Sprintf("%d is not a port", m.Port), "write a port such as 9180")
		case targets[uint32(m.Port)] || m.Port == 2019:
			bad("metrics.port", fmt.Sprintf("port %d is the gateway's already", m.Port), "choose another, such as 9180")
		}
	}
}

// routeHosts reports whether some route matches a host.
func (p *Project) routeHosts() bool {
	for _, s := range p.Services {
		for _, r := range s.Route {
			if r.Host != "" {
				return true
			}
		}
	}
	return false
}
