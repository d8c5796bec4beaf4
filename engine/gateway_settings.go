package engine

import (
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// gatewayMetricsPort is the port x-stack.gateway.metrics publishes, in
// compose's short syntax, on the host address of the gateway's first port.
func gatewayMetricsPort(g *manifest.Gateway) []string {
	if g.Metrics == nil || g.Metrics.Port == 0 {
		return nil
	}
	p := strconv.Itoa(g.Metrics.Port)
	spec := p + ":" + p
	if len(g.Ports) > 0 {
		if pcs, err := types.ParsePortConfig(g.Ports[0]); err == nil && len(pcs) > 0 && pcs[0].HostIP != "" {
			spec = pcs[0].HostIP + ":" + spec
		}
	}
	return []string{spec}
}

// routesHash is the hash of what is loaded into a running gateway: the
// routes (their users files by digest) and, when set, its TLS.
func routesHash(g *manifest.Gateway, routes []manifest.ServiceRoute) (string, error) {
	if g.TLS == nil {
		return ResourceHash(routes)
	}
	return ResourceHash(struct {
		Routes []manifest.ServiceRoute `json:"routes"`
		TLS    *manifest.GatewayTLS    `json:"tls"`
	}{routes, g.TLS})
}
