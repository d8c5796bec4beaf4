// Package gateway renders the Caddy config of a project's gateway from its
// manifest (x-stack.gateway and the services' routes) and the addresses of
// the containers, tasks or pods that serve each routed service, and reads
// the gateway's metrics back per route. It is shared by the drivers: each
// runs the same Caddy with the same config, and finds the addresses and
// loads the config its own way.
//
// It is pure: it neither reads files nor talks to an engine or to Caddy.
//
// The shape of the config: a public server on the gateway's ports (TLS on
// its container port 443 when x-stack.gateway.tls asks for it, the other
// ports redirecting there) sends each route's requests to a server of the
// route's own on the loopback, which applies the route's policy (CORS,
// auth, limits, headers) and proxies to the service. Caddy labels its
// request metrics by server (and host), never by route, so a server per
// route is what gives stack per-route figures.
package gateway
