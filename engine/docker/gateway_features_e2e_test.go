package docker_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// gwImage is the gateway tests' service (testdata/gatewayapp).
const gwImage = "stack-e2e-gatewayapp:latest"

// users: alice's password is s3cret (bcrypt, as htpasswd -B writes it).
const gwUsers = "alice:$2a$04$aakgF0iLrZKITd9FqkbxQua42SRcsPeFdB16GJTeULYD40Pr3IX9i\n"

const gwCompose = `
x-stack:
  gateway:
    ports: ["127.0.0.1:%[1]d:443", "127.0.0.1:%[2]d:80"]
    tls: internal
    metrics: {port: %[3]d}
services:
  web:
    image: ` + gwImage + `
    expose: ["8080"]
    x-stack:
      route:
        - path: /open
          cors: {origins: ["https://app.example.com"], methods: [GET, POST], headers: [Content-Type], max_age: 10m}
          headers: {X-Frame-Options: DENY}
          max_body: 1KB
          timeout: 1s
        - {path: /basic, auth: {basic: {users_file: ./users.htpasswd}}}
        - {host: api.example.com, path: /fwd, auth: {forward: {service: auth, path: /verify, copy_headers: [X-User]}}}
  auth:
    image: ` + gwImage + `
    expose: ["8080"]
`

// The gateway's TLS, auth, CORS, limits and metrics, end to end. Model:
// web behind a gateway with tls: internal at /open (CORS for
// https://app.example.com, a response header, max_body 1KB, timeout 1s),
// /basic (basic auth from an htpasswd file) and api.example.com/fwd
// (forward auth by the auth service, copying X-User). Steps: up; stack
// gateway ca -> a PEM that a client trusts to reach /open over HTTPS (by IP
// address) and api.example.com (by name); HTTP redirects to HTTPS; basic
// auth: none and wrong -> 401 and web never sees them, right -> 200;
// forward auth: the auth service's 401 is the client's, its 200 lets the
// request through with its X-User (not the client's); CORS preflights:
// allowed origin -> the allow headers, another -> none; a body over 1KB ->
// 413, an answer slower than 1s -> 504; 100 requests to /open -> stack
// stats --no-stream --format json counts them on /open; the metrics port
// serves Caddy's metrics.
func TestGatewayTLSAuthCORSMetrics(t *testing.T) {
	e2e.GoImage(t, gwImage, "./engine/docker/testdata/gatewayapp", "8080/tcp")
	httpsPort, httpPort, metricsPort := freePort(t), freePort(t), freePort(t)
	c, project := stack(t, fmt.Sprintf(gwCompose, httpsPort, httpPort, metricsPort))
	e2e.WriteFiles(t, c.Dir, map[string]string{"users.htpasswd": gwUsers})
	c.MustRun(t, "up")

	pool := gatewayCA(t, c)
	base := fmt.Sprintf("https://127.0.0.1:%d", httpsPort)
	hc := httpsClient(pool, httpsPort)

	// TLS by IP address, and a response header set by the gateway.
	resp := must(t, hc, "GET", base+"/open/a", nil)
	if resp.code != 200 || !strings.Contains(resp.body, "path=/open/a") || resp.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET /open/a over HTTPS: %d %q X-Frame-Options %q", resp.code, resp.body, resp.header.Get("X-Frame-Options"))
	}
	// HTTP redirects to HTTPS, on the published port.
	plain := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp = must(t, plain, "GET", fmt.Sprintf("http://127.0.0.1:%d/open/a?x=1", httpPort), nil)
	if want := base + "/open/a?x=1"; resp.code != http.StatusPermanentRedirect || resp.header.Get("Location") != want {
		t.Errorf("HTTP GET: %d to %q, want 308 to %q", resp.code, resp.header.Get("Location"), want)
	}
	// An untrusting client is refused: the certificate is the CA's.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/open/a"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the CA: %v, want a certificate error", err)
	}

	// Basic auth.
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"alice", "wrong", 401}, {"bob", "s3cret", 401}, {"alice", "s3cret", 200}} {
		h := http.Header{}
		if tc.user != "" {
			req, _ := http.NewRequest("GET", "/", nil)
			req.SetBasicAuth(tc.user, tc.pass)
			h = req.Header
		}
		if r := must(t, hc, "GET", base+"/basic/x", h); r.code != tc.want {
			t.Errorf("GET /basic/x as %q/%q: %d, want %d", tc.user, tc.pass, r.code, tc.want)
		}
	}
	if n := strings.Count(e2e.Docker(t, "logs", project+"-web-1"), "served GET /basic/x"); n != 1 {
		t.Errorf("web served /basic/x %d times, want once: the refused requests must not reach it", n)
	}

	// Forward auth, to api.example.com: the certificate for the route's host.
	fwd := fmt.Sprintf("https://api.example.com:%d/fwd/y", httpsPort)
	for _, tc := range []struct {
		token, spoof string
		want         int
		body         string
	}{{"", "", 401, "who are you?"}, {"bad", "mallory", 401, ""}, {"good", "mallory", 200, "user=alice path=/fwd/y"}} {
		h := http.Header{"X-User": {tc.spoof}}
		if tc.token != "" {
			h.Set("Authorization", "Bearer "+tc.token)
		}
		r := must(t, hc, "GET", fwd, h)
		if r.code != tc.want || !strings.Contains(r.body, tc.body) {
			t.Errorf("GET %s with token %q: %d %q, want %d %q", fwd, tc.token, r.code, r.body, tc.want, tc.body)
		}
	}
	if logs := e2e.Docker(t, "logs", project+"-auth-1"); !strings.Contains(logs, "verify GET /fwd/y") {
		t.Errorf("the auth service was not asked with the original method and URI:\n%s", logs)
	}

	// CORS preflights.
	pre := func(origin string) reply {
		return must(t, hc, "OPTIONS", base+"/open/a", http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}})
	}
	if r := pre("https://app.example.com"); r.code != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		r.header.Get("Access-Control-Allow-Methods") != "GET, POST" || r.header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight from the allowed origin: %d %v", r.code, r.header)
	}
	if r := pre("https://evil.example.com"); r.code != 204 || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from another origin: %d %v, want no allow headers", r.code, r.header)
	}
	if r := must(t, hc, "GET", base+"/open/a", http.Header{"Origin": {"https://app.example.com"}}); r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("GET from the allowed origin: no Access-Control-Allow-Origin: %v", r.header)
	}

	// Limits.
	if r := must(t, hc, "POST", base+"/open/big", nil, strings.Repeat("x", 4096)); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of 4KB to a route of max_body 1KB: %d %q, want 413", r.code, r.body)
	}
	if r := must(t, hc, "GET", base+"/open/slow?sleep=3s", nil); r.code != http.StatusGatewayTimeout {
		t.Errorf("GET of an answer slower than the route's timeout: %d, want 504", r.code)
	}

	// 100 requests, counted by stack stats.
	before := routeRequests(t, c, "/open")
	for i := range 100 {
		if r := must(t, hc, "GET", base+"/open/n", nil); r.code != 200 {
			t.Fatalf("request %d: %d", i, r.code)
		}
	}
	if after := routeRequests(t, c, "/open"); after-before != 100 {
		t.Errorf("stack stats counts %v requests on /open, then %v: want 100 more", before, after)
	}
	if table := c.MustRun(t, "stats", "--no-stream").Stdout; !containsLine(table, "/open", "web") || !strings.Contains(table, "P99") {
		t.Errorf("stats --no-stream has no row of route /open:\n%s", table)
	}
	// And publishes Caddy's metrics for a scraper.
	metrics := get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if !strings.Contains(metrics, `server="route:web:/open"`) {
		t.Errorf("the metrics port serves no figures of route /open:\n%.2000s", metrics)
	}

	// A change to the users file reloads the gateway, and prints none of it.
	bob := "bob:$2a$04$aakgF0iLrZKITd9FqkbxQua42SRcsPeFdB16GJTeULYD40Pr3IX9i\n" // s3cret too
	e2e.WriteFiles(t, c.Dir, map[string]string{"users.htpasswd": gwUsers + bob})
	r := c.Run(t, "plan", "--detailed-exitcode")
	if r.Code != 2 || !containsLine(r.Stdout, "gateway", "reload") || strings.Contains(r.Stdout+r.Stderr, "$2a$") {
		t.Fatalf("plan after a users file change: exit %d, want 2 and the gateway reloading, nothing of the file", r.Code)
	}
	c.MustRun(t, "up")
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("bob", "s3cret")
	if r := must(t, hc, "GET", base+"/basic/x", req.Header); r.code != 200 {
		t.Errorf("bob after the reload: %d, want 200", r.code)
	}
}

// gatewayCA reads `stack gateway ca` (once Caddy made its CA) into a pool.
func gatewayCA(t *testing.T, c e2e.Cmd) *x509.CertPool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := c.Run(t, "gateway", "ca")
		pool := x509.NewCertPool()
		if r.Code == 0 && pool.AppendCertsFromPEM([]byte(r.Stdout)) {
			return pool
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack gateway ca: exit %d, %q %s", r.Code, r.Stdout, r.Stderr)
		}
		time.Sleep(200 * time.Millisecond) // polling for Caddy to write its CA, with a deadline
	}
}

// httpsClient trusts pool and reaches every name at 127.0.0.1:port.
func httpsClient(pool *x509.CertPool, port int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
	}}
}

type reply struct {
	code   int
	header http.Header
	body   string
}

// must sends one request (with an optional body) and reads the answer.
func must(t *testing.T, c *http.Client, method, url string, h http.Header, body ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(strings.Join(body, "")))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// routeRequests is the request count stack stats --no-stream --format json
// gives route.
func routeRequests(t *testing.T, c e2e.Cmd, route string) float64 {
	t.Helper()
	out := c.MustRun(t, "stats", "--no-stream", "--format", "json").Stdout
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Route    string  `json:"route"`
			Requests float64 `json:"requests"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stats --format json: %v in %q", err, sc.Text())
		}
		if line.Route == route {
			return line.Requests
		}
	}
	t.Fatalf("stats --format json has no line of route %s:\n%s", route, out)
	return 0
}
