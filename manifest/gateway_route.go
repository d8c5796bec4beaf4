package manifest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/docker/go-units"
	"golang.org/x/crypto/bcrypt"
)

// RoutePolicy is what the gateway does with a route's requests before it
// sends them on: authentication, CORS, limits and response headers.
type RoutePolicy struct {
	// Auth refuses (401) the requests that do not authenticate; they never
	// reach the service.
	Auth *RouteAuth `yaml:"auth,omitempty" json:"auth,omitempty"`
	// CORS answers preflight requests at the gateway and adds the allow
	// headers to the answers to the origins it lists.
	CORS *CORS `yaml:"cors,omitempty" json:"cors,omitempty"`
	// MaxBody bounds a request's body ("10MB", binary units as compose's
	// memory sizes); a larger one is refused with 413.
	MaxBody string `yaml:"max_body,omitempty" json:"max_body,omitempty"`
	// Timeout bounds the wait for the service's response headers ("30s");
	// past it the gateway answers 504.
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Headers are set on every response of the route.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// RouteAuth is one way to authenticate a route's requests.
type RouteAuth struct {
	Basic   *BasicAuth   `yaml:"basic,omitempty" json:"basic,omitempty"`
	Forward *ForwardAuth `yaml:"forward,omitempty" json:"forward,omitempty"`
}

// BasicAuth checks HTTP basic credentials against an htpasswd file of bcrypt
// lines (htpasswd -B).
type BasicAuth struct {
	// UsersFile is the htpasswd file, relative to the project directory.
	UsersFile string `yaml:"users_file" json:"users_file"`
	// Users are the file's accounts, read when the manifest loads; never
	// printed.
	Users []BasicUser `yaml:"-" json:"-"`
	// Digest is the sha256 of the file: a change reloads the gateway.
	Digest string `yaml:"-" json:"digest"`
}

// BasicUser is one line of a users file.
type BasicUser struct{ Name, Hash string }

// ForwardAuth asks a service of the project about each request (Caddy's
// forward_auth): a 2xx answer lets it through, with the headers listed
// copied from the answer onto it; any other answer is the client's.
type ForwardAuth struct {
	Service string `yaml:"service" json:"service"`
	// Path is what the service is asked at; the original method and URI go
	// in X-Forwarded-Method and X-Forwarded-Uri.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Port is the service's port; default its first expose or ports target.
	Port        int      `yaml:"port,omitempty" json:"port,omitempty"`
	CopyHeaders []string `yaml:"copy_headers,omitempty" json:"copy_headers,omitempty"`
}

// CORS is a route's cross-origin policy.
type CORS struct {
	// Origins allowed ("https://app.example.com"), or "*" for any.
	Origins     []string `yaml:"origins" json:"origins"`
	Methods     []string `yaml:"methods,omitempty" json:"methods,omitempty"`
	Headers     []string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Credentials bool     `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	// MaxAge is how long a browser may keep a preflight's answer ("10m").
	MaxAge string `yaml:"max_age,omitempty" json:"max_age,omitempty"`
}

// MaxBodyBytes is MaxBody in bytes; 0 when unset. Load has checked it.
func (r RoutePolicy) MaxBodyBytes() int64 {
	if r.MaxBody == "" {
		return 0
	}
	n, _ := units.RAMInBytes(r.MaxBody)
	return n
}

// Reaches are the services a route's gateway must reach: its own, and the
// one that authenticates its requests.
func (r ServiceRoute) Reaches() []string {
	out := []string{r.Service}
	if a := r.Auth; a != nil && a.Forward != nil && a.Forward.Service != r.Service {
		out = append(out, a.Forward.Service)
	}
	return out
}

// ForwardPort is the port of a route's forward-auth service.
func (p *Project) ForwardPort(f *ForwardAuth) int {
	if f.Port != 0 {
		return f.Port
	}
	return routePort(p.Project.Services[f.Service])
}

// checkRoutePolicy validates route i of service name's policy, and reads
// its users file.
func (p *Project) checkRoutePolicy(ps *problems, name string, i int) {
	r := &p.Services[name].Route[i]
	field := fmt.Sprintf("%s.route[%d]", ExtensionKey, i)
	if _, listed := p.idx["services."+name+"."+field]; !listed && i == 0 {
		field = ExtensionKey + ".route" // route: {...}, one route
	}
	bad := func(sub, problem, fix string) {
		e := p.ErrorAt(name, field+"."+sub)
		e.Problem, e.Fix, e.Err = problem, fix, ErrInvalid
		ps.add(e)
	}
	if r.MaxBody != "" {
		if n, err := units.RAMInBytes(r.MaxBody); err != nil || n <= 0 {
			bad("max_body", fmt.Sprintf("%q is not a size", r.MaxBody), "write a size such as 10MB")
		}
	}
	if r.Timeout != "" {
		if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
			bad("timeout", fmt.Sprintf("%q is not a duration", r.Timeout), "write a duration such as 30s")
		}
	}
	for k := range r.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			bad("headers", fmt.Sprintf("%q is not a header name", k), "write a name such as X-Frame-Options")
		}
	}
	if c := r.CORS; c != nil {
		if len(c.Origins) == 0 {
			bad("cors.origins", "CORS allows no origin", `list the origins, e.g. origins: ["https://app.example.com"]`)
		}
		for _, o := range c.Origins {
			if o != "*" && (strings.Contains(o, "*") || !strings.Contains(o, "://")) {
				bad("cors.origins", fmt.Sprintf("%q is not an origin", o), `write scheme://host[:port], or "*" for any`)
			}
		}
		if c.MaxAge != "" {
			if d, err := time.ParseDuration(c.MaxAge); err != nil || d < 0 {
				bad("cors.max_age", fmt.Sprintf("%q is not a duration", c.MaxAge), "write a duration such as 10m")
			}
		}
	}
	if a := r.Auth; a != nil {
		p.checkRouteAuth(a, bad)
	}
}

// checkRouteAuth validates a route's auth block and reads its users file.
func (p *Project) checkRouteAuth(a *RouteAuth, bad func(sub, problem, fix string)) {
	switch {
	case a.Basic == nil && a.Forward == nil:
		bad("auth", "no way to authenticate", "give it basic: {users_file: ./users.htpasswd} or forward: {service: auth, path: /verify}")
	case a.Basic != nil && a.Forward != nil:
		bad("auth", "both basic and forward", "keep one of them")
	case a.Basic != nil:
		if a.Basic.UsersFile == "" {
			bad("auth.basic.users_file", "no users file", "write users_file: ./users.htpasswd (htpasswd -B -c users.htpasswd NAME writes one)")
			return
		}
		users, digest, err := readUsers(p.path(a.Basic.UsersFile))
		if err != nil {
			bad("auth.basic.users_file", err.Error(), "write it with htpasswd -B (bcrypt), one NAME:HASH a line")
			return
		}
		a.Basic.Users, a.Basic.Digest = users, digest
	case a.Forward.Service == "":
		bad("auth.forward.service", "no service to ask", "name the service that authenticates, e.g. service: auth")
	case !p.enabled(a.Forward.Service):
		bad("auth.forward.service", fmt.Sprintf("no service %q in the project", a.Forward.Service), "name one of the project's services")
	case a.Forward.Path != "" && !strings.HasPrefix(a.Forward.Path, "/"):
		bad("auth.forward.path", fmt.Sprintf("path %q does not start with /", a.Forward.Path), "write it as /"+a.Forward.Path)
	case p.ForwardPort(a.Forward) == 0:
		bad("auth.forward.port", fmt.Sprintf("no port to ask service %q on", a.Forward.Service), "give it a port (port: 9000), or the service an expose entry")
	default:
		for _, h := range a.Forward.CopyHeaders {
			if h == "" || strings.ContainsAny(h, " :\r\n") {
				bad("auth.forward.copy_headers", fmt.Sprintf("%q is not a header name", h), "write a name such as X-User")
			}
		}
	}
}

// enabled reports whether the project runs service name.
func (p *Project) enabled(name string) bool {
	_, ok := p.Project.Services[name]
	return ok
}

// readUsers reads an htpasswd file of bcrypt lines. Its errors name the
// file and the line, never what the line holds.
func readUsers(path string) ([]BasicUser, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading the users file: %w", err)
	}
	var users []BasicUser
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, "", fmt.Errorf("%s line %d is not NAME:HASH", path, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, "", fmt.Errorf("%s line %d: the password is not a bcrypt hash", path, n)
		}
		users = append(users, BasicUser{Name: name, Hash: hash})
	}
	if len(users) == 0 {
		return nil, "", fmt.Errorf("%s has no user", path)
	}
	sum := sha256.Sum256(b)
	return users, hex.EncodeToString(sum[:]), nil
}
