package gateway

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stack-deploy/stack/manifest"
)

// routeServer is route r's own server, on addr on the loopback: one
// subroute (so that Caddy's metrics count each request once, under the
// subroute handler, with its final status) that applies r's policy in
// order (CORS, response headers, auth, body limit, prefix) and proxies to
// addrs. Errors (a refused auth, a body too large, no upstream answering)
// are answered inside it, so the metrics see their status too.
func routeServer(addr string, r manifest.ServiceRoute, addrs []string, o Options) object {
	var routes []any
	routes = append(routes, corsRoutes(r.CORS)...)
	if len(r.Headers) > 0 {
		set := object{}
		for _, k := range sortedKeys(r.Headers) {
			set[http.CanonicalHeaderKey(k)] = []string{r.Headers[k]}
		}
		// Deferred: they replace what the service sets.
		routes = append(routes, object{"handle": []any{object{"handler": "headers", "response": object{"set": set, "deferred": true}}}})
	}
	if r.Auth != nil {
		routes = append(routes, object{"handle": authHandlers(r.Auth)})
	}
	var handle []any
	if n := r.MaxBodyBytes(); n > 0 {
		// A body whose length is said is refused at once; one sent in
		// chunks is cut at the limit (413; Caddy 2.6's proxy answered 502).
		cl := "{http.request.header.Content-Length}"
		routes = append(routes, object{
			"match":    []any{object{"expression": fmt.Sprintf(`%s != "" && int(%s) > %d`, cl, cl, n)}},
			"handle":   []any{object{"handler": "static_response", "status_code": 413, "body": "request body too large\n", "close": true}},
			"terminal": true,
		})
		handle = append(handle, object{"handler": "request_body", "max_size": n})
	}
	if r.StripPrefix {
		handle = append(handle, object{"handler": "rewrite", "strip_path_prefix": r.Path})
	}
	handle = append(handle, proxy(r, addrs, o))
	routes = append(routes, object{"handle": handle, "terminal": true})
	sub := object{
		"handler": "subroute",
		"routes":  routes,
		"errors": object{"routes": []any{object{"handle": []any{object{
			"handler": "static_response", "status_code": "{http.error.status_code}", "body": "{http.error.status_text}\n",
		}}}}},
	}
	return object{
		"listen":          []string{addr},
		"routes":          []any{object{"handle": []any{sub}}},
		"automatic_https": object{"disable": true},
		"metrics":         object{},
	}
}

// proxy sends r's requests to addrs (round robin, a failed connection
// retried on another for a few seconds, a failing one passed over), or
// answers 503 when there are none. Timeout bounds the wait for the
// response's headers (the transport's response_header_timeout): a body
// that streams for long is not cut.
func proxy(r manifest.ServiceRoute, addrs []string, o Options) object {
	if len(addrs) == 0 {
		return object{"handler": "static_response", "status_code": 503,
			"body": fmt.Sprintf("no container of service %s is ready\n", r.Service)}
	}
	var ups []any
	for _, a := range addrs {
		ups = append(ups, object{"dial": a + ":" + strconv.Itoa(r.Port)})
	}
	health := object{}
	if !o.Balanced {
		health["passive"] = object{"fail_duration": "5s", "max_fails": 1}
	}
	if r.Health != "" {
		health["active"] = object{"uri": r.Health, "interval": "2s", "timeout": "1s"}
	}
	// A balanced address's dials are tried for longer, each for less: one
	// can be lost while the address is new to the node's proxy (a
	// Kubernetes Service's rules not written yet), and a new connection is
	// sent anew.
	try, transport := "5s", object{"protocol": "http"}
	if o.Balanced {
		try, transport["dial_timeout"] = "15s", "1s"
	}
	p := object{
		"handler":   "reverse_proxy",
		"upstreams": ups,
		"load_balancing": object{
			"selection_policy": object{"policy": "round_robin"},
			"try_duration":     try,
			"try_interval":     "100ms",
		},
		// The public server before it is the client: its X-Forwarded-*
		// are the real client's.
		"trusted_proxies": []string{"127.0.0.1/32"},
	}
	if len(health) > 0 {
		p["health_checks"] = health
	}
	if r.Timeout != "" {
		d, _ := time.ParseDuration(r.Timeout) // checked when loading
		transport["response_header_timeout"] = d.String()
	}
	if len(transport) > 1 {
		p["transport"] = transport
	}
	return p
}

// authHandlers refuse the requests that do not authenticate (401).
func authHandlers(a *manifest.RouteAuth) []any {
	if b := a.Basic; b != nil {
		var accounts []any
		for _, u := range b.Users {
			accounts = append(accounts, object{"username": u.Name, "password": u.Hash})
		}
		return []any{object{"handler": "authentication", "providers": object{"http_basic": object{
			"accounts": accounts, "hash": object{"algorithm": "bcrypt"}, "realm": "restricted",
		}}}}
	}
	f := a.Forward
	// What Caddy's forward_auth directive expands to: the request's
	// headers sent to the service as a GET to path; a 2xx lets it go on
	// with the listed headers copied from the answer, any other answer is
	// the client's. The listed headers are removed from the request first:
	// a client cannot send them itself.
	set := object{}
	for _, h := range f.CopyHeaders {
		h = http.CanonicalHeaderKey(h)
		set[h] = []string{"{http.reverse_proxy.header." + h + "}"}
	}
	var out []any
	if len(f.CopyHeaders) > 0 {
		var del []string
		for _, h := range f.CopyHeaders {
			del = append(del, http.CanonicalHeaderKey(h))
		}
		out = append(out, object{"handler": "headers", "request": object{"delete": del}})
	}
	uri := f.Path
	if uri == "" {
		uri = "/"
	}
	good := object{"match": object{"status_code": []int{2}}, "routes": []any{object{"handle": []any{
		object{"handler": "headers", "request": object{"set": set}},
	}}}}
	return append(out, object{
		"handler":   "reverse_proxy",
		"upstreams": []any{object{"dial": f.Service + ":" + strconv.Itoa(f.Port)}},
		"rewrite":   object{"method": "GET", "uri": uri},
		"headers": object{"request": object{"set": object{
			"X-Forwarded-Method": []string{"{http.request.method}"},
			"X-Forwarded-Uri":    []string{"{http.request.uri}"},
		}}},
		"handle_response": []any{good},
		"trusted_proxies": []string{"127.0.0.1/32"},
	})
}

// corsRoutes answer preflights at the gateway (with the allow headers to
// an allowed origin, without them to any other) and add the allow headers
// to the answers to an allowed origin.
func corsRoutes(c *manifest.CORS) []any {
	if c == nil {
		return nil
	}
	origins := c.Origins
	anyOrigin := false
	for _, o := range origins {
		anyOrigin = anyOrigin || o == "*"
	}
	if anyOrigin {
		origins = []string{} // the header is there, whatever its value
	}
	allow := "{http.request.header.Origin}"
	if anyOrigin && !c.Credentials {
		allow = "*"
	}
	common := object{"Access-Control-Allow-Origin": []string{allow}, "Vary": []string{"Origin"}}
	if c.Credentials {
		common["Access-Control-Allow-Credentials"] = []string{"true"}
	}
	preflight := object{}
	for k, v := range common {
		preflight[k] = v
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	}
	preflight["Access-Control-Allow-Methods"] = []string{strings.ToUpper(strings.Join(methods, ", "))}
	if len(c.Headers) > 0 {
		preflight["Access-Control-Allow-Headers"] = []string{strings.Join(c.Headers, ", ")}
	}
	if c.MaxAge != "" {
		d, _ := time.ParseDuration(c.MaxAge) // checked when loading
		preflight["Access-Control-Max-Age"] = []string{strconv.Itoa(int(d.Seconds()))}
	}
	isPreflight := object{"method": []string{"OPTIONS"}, "header": object{"Access-Control-Request-Method": []string{}, "Origin": []string{}}}
	allowed := object{"header": object{"Origin": origins}}
	allowedPreflight := object{"method": []string{"OPTIONS"}, "header": object{"Access-Control-Request-Method": []string{}, "Origin": origins}}
	return []any{
		object{"match": []any{allowedPreflight}, "handle": []any{
			object{"handler": "headers", "response": object{"set": preflight}},
			object{"handler": "static_response", "status_code": 204},
		}, "terminal": true},
		object{"match": []any{isPreflight}, "handle": []any{object{"handler": "static_response", "status_code": 204}}, "terminal": true},
		object{"match": []any{allowed}, "handle": []any{object{"handler": "headers", "response": object{"set": common}}}},
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
