package manifest

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
	"go.yaml.in/yaml/v4"
)

// ReleasePhase is x-stack.release, or an environment's release: one-off
// commands run once per deploy, each in a new container of a service with
// the release's image and the environment's configuration.
//
//	x-stack:
//	  release:
//	    before: [{service: api, command: ["/app", "migrate"]}]
//	    after:  [{service: api, command: ["/app", "warm-cache"]}]
//
// An environment's release replaces the top-level one list by list: an
// environment that writes before keeps the top-level after, and before: []
// turns the top-level before off.
type ReleasePhase struct {
	// Before runs, in order, once the images are present and before any
	// container of the release takes traffic or replaces an old one.
	Before []Step `yaml:"before,omitempty" json:"before,omitempty"`
	// After runs, in order, once every service is ready.
	After []Step `yaml:"after,omitempty" json:"after,omitempty"`
}

// Step is one command of a release phase.
type Step struct {
	// Service is the service whose configuration and image the command runs with.
	Service string `yaml:"service" json:"service"`
	// Command replaces the service's command: a list, or a string split as
	// a shell would.
	Command Command `yaml:"command" json:"command"`
}

// Name is how output and errors refer to the step: "api: /app migrate".
func (s Step) Name() string { return s.Service + ": " + strings.Join(s.Command, " ") }

// Command is a command line: YAML gives a list, or a string split into
// words as a shell would split it (compose's command: does the same).
type Command []string

// UnmarshalYAML takes a list of words or one string.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		words, err := shellwords.Parse(n.Value)
		if err != nil {
			return fmt.Errorf("command %q: %w", n.Value, err)
		}
		*c = words
		return nil
	}
	var words []string
	if err := n.Decode(&words); err != nil {
		return err
	}
	*c = words
	return nil
}

// Check is one check of environments.E.verify: a one-off command in a
// service that must exit 0, or an HTTP request that must answer Status.
//
//	verify:
//	  - {service: api, command: ["/app", "selftest"]}
//	  - {http: "http://127.0.0.1:8080/health", status: 200, within: 30s}
type Check struct {
	// Service and Command: run Command in a new container of Service.
	Service string  `yaml:"service,omitempty" json:"service,omitempty"`
	Command Command `yaml:"command,omitempty" json:"command,omitempty"`
	// HTTP is an absolute http or https URL, asked with GET.
	HTTP string `yaml:"http,omitempty" json:"http,omitempty"`
	// Status is the status the URL must answer; default 200.
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Within is how long the check may take to pass, tried again until
	// then (a Go duration: 30s, 2m); default: DefaultWithin for an HTTP
	// check, one run for a command.
	Within string `yaml:"within,omitempty" json:"within,omitempty"`
}

// DefaultWithin is how long a check that sets no within may take.
const DefaultWithin = 10 * time.Second

// Name is how results and errors refer to the check: "http
// http://127.0.0.1:8080/health" or "api: /app selftest".
func (c Check) Name() string {
	if c.HTTP != "" {
		return "http " + c.HTTP
	}
	return c.Service + ": " + strings.Join(c.Command, " ")
}

// Timeout is Within as a duration (Load has validated it); DefaultWithin
// when it is not set.
func (c Check) Timeout() time.Duration {
	d, err := time.ParseDuration(c.Within)
	if err != nil || d <= 0 {
		return DefaultWithin
	}
	return d
}

// WantStatus is the status an HTTP check expects: Status, or 200.
func (c Check) WantStatus() int {
	if c.Status == 0 {
		return 200
	}
	return c.Status
}

// Release is the release phase of the project as loaded: the selected
// environment's lists where it sets them, else the top-level ones.
func (p *Project) Release() ReleasePhase {
	r := ReleasePhase{}
	if p.Stack.Release != nil {
		r = *p.Stack.Release
	}
	if p.Env != nil && p.Env.Release != nil {
		if p.Env.Release.Before != nil {
			r.Before = p.Env.Release.Before
		}
		if p.Env.Release.After != nil {
			r.After = p.Env.Release.After
		}
	}
	return r
}

// Checks are the selected environment's verify checks; none without one.
func (p *Project) Checks() []Check {
	if p.Env == nil {
		return nil
	}
	return p.Env.Verify
}

// checkRelease validates x-stack.release and every environment's release
// and verify. A service is looked up here for the top-level release and for
// environments that add no compose files; an environment's own files may
// add services, so its settings are checked again against the project it
// loads (checkEnvironmentRelease).
func (p *Project) checkRelease(ps *problems) {
	if p.Stack.Release != nil {
		p.checkPhase(ps, ExtensionKey+".release", *p.Stack.Release, p.hasService)
	}
	for _, name := range EnvironmentNames(p) {
		env := p.Stack.Environments[name]
		has := p.hasService
		if len(env.Files) > 0 {
			has = func(string) bool { return true }
		}
		p.checkEnvironment(ps, p, name, env, has)
	}
}

// checkEnvironmentRelease checks that the services the environment's
// release and verify name are services of loaded, the project the
// environment loads; base locates the errors.
func checkEnvironmentRelease(base, loaded *Project, name string, env Environment) error {
	ps := &problems{}
	base.checkEnvironment(ps, loaded, name, env, loaded.hasService)
	return ps.err()
}

func (p *Project) checkEnvironment(ps *problems, loaded *Project, name string, env Environment, has func(string) bool) {
	field := ExtensionKey + ".environments." + name
	if env.Release != nil {
		p.checkPhase(ps, field+".release", *env.Release, has)
	}
	for i, c := range env.Verify {
		p.checkCheck(ps, fmt.Sprintf("%s.verify[%d]", field, i), c, has, loaded)
	}
}

func (p *Project) checkPhase(ps *problems, field string, r ReleasePhase, has func(string) bool) {
	for list, steps := range map[string][]Step{"before": r.Before, "after": r.After} {
		for i, s := range steps {
			at := fmt.Sprintf("%s.%s[%d]", field, list, i)
			switch {
			case s.Service == "":
				ps.add(p.invalidAt(at+".service", "no service to run the command in", "name one: service: api"))
			case !has(s.Service):
				ps.add(p.invalidAt(at+".service", fmt.Sprintf("no such service: %q", s.Service), "name one of the services: "+strings.Join(p.ServiceNames(), ", ")))
			}
			if len(s.Command) == 0 {
				ps.add(p.invalidAt(at+".command", "no command", `write the command to run, e.g. command: ["/app", "migrate"]`))
			}
		}
	}
}

func (p *Project) checkCheck(ps *problems, at string, c Check, has func(string) bool, loaded *Project) {
	switch {
	case c.HTTP != "" && (c.Service != "" || len(c.Command) > 0):
		ps.add(p.invalidAt(at, "both http and service/command", "make it two checks: one with http, one with service and command"))
	case c.HTTP != "":
		u, err := url.Parse(c.HTTP)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.add(p.invalidAt(at+".http", fmt.Sprintf("%q is not an absolute http or https URL", c.HTTP), "write it in full, e.g. http://127.0.0.1:8080/health"))
		}
		if c.Status != 0 && (c.Status < 100 || c.Status > 599) {
			ps.add(p.invalidAt(at+".status", fmt.Sprintf("%d is not an HTTP status", c.Status), "write one from 100 to 599, e.g. 200"))
		}
	case c.Service == "":
		ps.add(p.invalidAt(at, "neither http nor service", `write {http: "http://HOST:PORT/PATH"} or {service: api, command: [...]}`))
	case !has(c.Service):
		ps.add(p.invalidAt(at+".service", fmt.Sprintf("no such service: %q", c.Service), "name one of the services: "+strings.Join(loaded.ServiceNames(), ", ")))
	case len(c.Command) == 0:
		ps.add(p.invalidAt(at+".command", "no command", `write the command that checks the service, e.g. command: ["/app", "selftest"]`))
	}
	if c.HTTP == "" && c.Status != 0 {
		ps.add(p.invalidAt(at+".status", "status without http", "drop it: a command check passes when the command exits 0"))
	}
	if c.Within != "" {
		if d, err := time.ParseDuration(c.Within); err != nil || d <= 0 {
			ps.add(p.invalidAt(at+".within", fmt.Sprintf("%q is not a duration", c.Within), "write a positive duration such as 30s or 2m"))
		}
	}
}

// invalidAt is an ErrInvalid user error about field (from the top level).
func (p *Project) invalidAt(field, problem, fix string) *Error {
	e := p.ErrorAt("", field)
	e.Problem, e.Fix, e.Err = problem, fix, ErrInvalid
	return e
}
