package gateway

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// AdminAddress is where Caddy's admin API (and its /metrics) listens in
// the gateway's container.
const AdminAddress = "localhost:2019"

// routeSocket is where route server i listens in the gateway's container:
// a unix socket, which Caddy hands over from one config to the next as one
// socket. Loopback TCP ports were reopened at each reload (SO_REUSEPORT),
// and a connection queued on the closing socket was reset: a 502, seen once
// in ~80 reloads under load (a hop that cannot retry: its config is going).
func routeSocket(i int) string { return "unix//tmp/stack-route-" + strconv.Itoa(i) + ".sock" }

// serverPrefix starts the name of each route's server, the label its
// metrics carry: "route:<service>:<host><path>".
const serverPrefix = "route:"

// object is a piece of Caddy's JSON config.
type object = map[string]any

// Config renders Caddy's JSON config for gateway g, its routes (in the
// order manifest.GatewayRoutes gives them) and upstreams: the addresses
// (no port) of what serves each service, by service. A route whose service
// has none answers 503 saying so.
func Config(g *manifest.Gateway, routes []manifest.ServiceRoute, upstreams map[string][]string) ([]byte, error) {
	return ConfigWith(g, routes, upstreams, Options{})
}

// Options change how Config proxies.
type Options struct {
	// Balanced says each service's upstream is one address that balances
	// over the service's ready replicas itself (a Kubernetes Service's
	// name): it is never passed over after a failure, as passing over the
	// only one would refuse every request for the fail duration; a failed
	// dial (no ready replica yet, or rules the node has not written yet) is
	// tried again, each for 1s, for 15s.
	Balanced bool
}

// ConfigWith is Config with options.
func ConfigWith(g *manifest.Gateway, routes []manifest.ServiceRoute, upstreams map[string][]string, o Options) ([]byte, error) {
	ports, err := parsePorts(g.Ports)
	if err != nil {
		return nil, err
	}
	servers := object{}
	var public []any
	names := map[string]int{}
	for i, r := range routes {
		addr := routeSocket(i)
		name := ServerName(r)
		if names[name]++; names[name] > 1 {
			name += "#" + strconv.Itoa(names[name])
		}
		servers[name] = routeServer(addr, r, upstreams[r.Service], o)
		public = append(public, hop(r, addr))
	}
	if err := publicServers(servers, g, ports, public); err != nil {
		return nil, err
	}
	if g.Metrics != nil {
		servers["metrics"] = object{
			"listen":          []string{":" + strconv.Itoa(g.Metrics.Port)},
			"routes":          []any{object{"handle": []any{object{"handler": "metrics"}}}},
			"automatic_https": object{"disable": true},
		}
	}
	apps := object{"http": object{"servers": servers}}
	tlsApps(apps, g, routes, ports)
	cfg := object{"admin": object{"listen": AdminAddress}, "apps": apps}
	return json.MarshalIndent(cfg, "", "  ")
}

// ServerName is the name of route r's server in Caddy's config and in its
// metrics: "route:<service>:<host><path>".
func ServerName(r manifest.ServiceRoute) string {
	return serverPrefix + r.Service + ":" + RouteName(r)
}

// RouteName names a route as ps and stats show it: "api.example.com/api".
func RouteName(r manifest.ServiceRoute) string { return r.Host + cmp.Or(r.Path, "/") }

// hop is the public server's route for r: its matchers, and a proxy to
// r's own server on its socket. No flush_interval -1: Caddy 2.6 then
// ties each request to the config's life, and a reload cancels those under
// way. A connection each request: a
// kept-alive one may be to the route server of the config a reload just
// replaced, which closes it (a request on it would fail); a GET that
// fails all the same is tried again.
func hop(r manifest.ServiceRoute, addr string) object {
	route := object{"handle": []any{object{
		"handler":        "reverse_proxy",
		"upstreams":      []any{object{"dial": addr}},
		"transport":      object{"protocol": "http", "keep_alive": object{"enabled": false}},
		"load_balancing": object{"try_duration": "5s", "try_interval": "50ms"},
	}}, "terminal": true}
	match := object{}
	if r.Host != "" {
		match["host"] = []string{r.Host}
	}
	if r.Path != "" && r.Path != "/" {
		match["path"] = []string{r.Path, strings.TrimSuffix(r.Path, "/") + "/*"}
	}
	if len(match) > 0 {
		route["match"] = []any{match}
	}
	return route
}

// port is one of the gateway's published ports.
type port struct {
	hostIP, published string
	target            int
}

func parsePorts(specs []string) ([]port, error) {
	var out []port
	seen := map[int]bool{}
	for _, s := range specs {
		pcs, err := types.ParsePortConfig(s)
		if err != nil {
			return nil, fmt.Errorf("parsing x-stack.gateway.ports %q: %w", s, err)
		}
		for _, pc := range pcs {
			if t := int(pc.Target); !seen[t] {
				seen[t] = true
				out = append(out, port{hostIP: pc.HostIP, published: pc.Published, target: t})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].target < out[j].target })
	return out, nil
}

// publicServers adds the servers on the gateway's ports: without TLS one
// for them all (Caddy's automatic HTTPS on when one is 443, as Caddy would
// have it); with TLS, HTTPS on 443 and a redirect there on the others.
func publicServers(servers object, g *manifest.Gateway, ports []port, routes []any) error {
	if g.TLS == nil {
		var listen []string
		https := false
		for _, p := range ports {
			listen = append(listen, ":"+strconv.Itoa(p.target))
			https = https || p.target == 443
		}
		server := object{"listen": listen, "routes": routes}
		if !https {
			server["automatic_https"] = object{"disable": true}
		}
		servers["gateway"] = server
		return nil
	}
	var tlsPort *port
	var plain []string
	for i, p := range ports {
		if p.target == 443 {
			tlsPort = &ports[i]
		} else {
			plain = append(plain, ":"+strconv.Itoa(p.target))
		}
	}
	if tlsPort == nil {
		return fmt.Errorf("rendering the gateway's TLS: no port of the gateway's is its container port 443")
	}
	policy := object{}
	if g.TLS.Internal {
		policy["default_sni"] = defaultSNI(ports)
	}
	servers["gateway"] = object{
		"listen":                  []string{":443"},
		"routes":                  routes,
		"tls_connection_policies": []any{policy},
		// stack says which names get certificates (tls.go) and redirects
		// itself, to the port the client knows.
		"automatic_https": object{"disable": true},
		"protocols":       []string{"h1", "h2"},
	}
	if len(plain) > 0 {
		location := "https://{http.request.host}{http.request.uri}"
		if p := tlsPort.published; p != "" && p != "443" && !strings.Contains(p, "-") {
			location = "https://{http.request.host}:" + p + "{http.request.uri}"
		}
		servers["redirect"] = object{
			"listen": plain,
			"routes": []any{object{"handle": []any{object{
				"handler": "static_response", "status_code": 308,
				"headers": object{"Location": []string{location}, "Connection": []string{"close"}},
			}}}},
			"automatic_https": object{"disable": true},
		}
	}
	return nil
}
