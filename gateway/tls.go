package gateway

import (
	"net"
	"sort"

	"github.com/stack-deploy/stack/manifest"
)

// CAPath is where Caddy keeps its internal CA's root certificate, below
// its data directory (/data in the official image and stack's).
const CAPath = "/data/caddy/pki/authorities/local/root.crt"

// tlsApps adds Caddy's tls (and pki) apps when g serves TLS: certificates
// for every route's host and, from the internal CA, for localhost and the
// addresses the gateway is published on.
func tlsApps(apps object, g *manifest.Gateway, routes []manifest.ServiceRoute, ports []port) {
	t := g.TLS
	if t == nil {
		return
	}
	names := map[string]bool{}
	for _, r := range routes {
		if r.Host != "" {
			names[r.Host] = true
		}
	}
	issuer := object{"module": "internal"}
	if t.Internal {
		names["localhost"] = true
		for _, a := range addresses(ports) {
			names[a] = true
		}
		// Stack prints the root (stack gateway ca); Caddy is not to
		// install it in the container's trust store.
		apps["pki"] = object{"certificate_authorities": object{"local": object{"install_trust": false}}}
	} else {
		issuer = object{"module": "acme", "email": t.ACME.Email}
		if t.ACME.CA != "" {
			issuer["ca"] = t.ACME.CA
		}
	}
	subjects := make([]string, 0, len(names))
	for n := range names {
		subjects = append(subjects, n)
	}
	sort.Strings(subjects)
	policy := object{"issuers": []any{issuer}}
	if len(subjects) > 0 {
		policy["subjects"] = subjects
	}
	apps["tls"] = object{
		"certificates": object{"automate": subjects},
		"automation":   object{"policies": []any{policy}},
	}
}

// addresses are the IP addresses the gateway is published on: the host
// addresses of its ports, 127.0.0.1 for those on every interface.
func addresses(ports []port) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ports {
		a := p.hostIP
		if ip := net.ParseIP(a); a == "" || ip == nil || ip.IsUnspecified() {
			a = "127.0.0.1"
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// defaultSNI is the name whose certificate a client that sends none (one
// that connects to an IP address) gets: the first address published on.
func defaultSNI(ports []port) string {
	if a := addresses(ports); len(a) > 0 {
		return a[0]
	}
	return "localhost"
}
