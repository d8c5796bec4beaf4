package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// InjectMode says which services' addresses a service receives (see package
// envinject).
type InjectMode string

// The injection modes; the zero value means InjectDependencies.
const (
	// InjectDependencies injects the addresses of the service's depends_on
	// and links entries (and the dependencies compose-go derives from
	// network_mode: service:, volumes_from, ...).
	InjectDependencies InjectMode = "dependencies"
	// InjectAll injects the addresses of every other service of the stack,
	// as Kubernetes does for the services of a namespace.
	InjectAll InjectMode = "all"
	// InjectNone injects nothing; {{svc.host}} templates still resolve.
	InjectNone InjectMode = "none"
)

// InjectModes are the valid modes, in the order error messages list them.
var InjectModes = []InjectMode{InjectDependencies, InjectAll, InjectNone}

// Inject configures address injection. At the top level of x-stack it is the
// default for every service; in a service's x-stack its mode replaces the
// default and its prefix entries are added to (and win over) the top-level
// ones.
type Inject struct {
	// Mode is "dependencies" (default), "all" or "none".
	Mode InjectMode `yaml:"mode,omitempty" json:"mode,omitempty"`
	// Prefix renames a dependency's variable prefix: service name -> prefix
	// (redis: CACHE gives CACHE_HOST, CACHE_PORT instead of REDIS_HOST,
	// REDIS_PORT). The prefix is used as written.
	Prefix map[string]string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}

// InjectFor returns the injection settings of one service: the top-level
// x-stack inject block with the service's own block applied over it, and the
// mode defaulted to InjectDependencies. Load has validated both.
func (p *Project) InjectFor(service string) Inject {
	out := Inject{Mode: InjectDependencies, Prefix: map[string]string{}}
	layers := []*Inject{p.Stack.Inject}
	if ext, ok := p.Services[service]; ok {
		layers = append(layers, ext.Inject)
	}
	for _, in := range layers {
		if in == nil {
			continue
		}
		if in.Mode != "" {
			out.Mode = in.Mode
		}
		maps.Copy(out.Prefix, in.Prefix)
	}
	return out
}

// checkInject adds a problem for each invalid inject setting: a misspelt
// mode, a prefix for a service the project does not have, a prefix that is
// not a variable name.
func (p *Project) checkInject(ps *problems) {
	p.checkInjectBlock(ps, "", p.Stack.Inject)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		p.checkInjectBlock(ps, name, p.Services[name].Inject)
	}
}

func (p *Project) checkInjectBlock(ps *problems, service string, in *Inject) {
	if in == nil {
		return
	}
	field := ExtensionKey + ".inject"
	if in.Mode != "" && !slices.Contains(InjectModes, in.Mode) {
		e := p.ErrorAt(service, field+".mode")
		e.Problem = fmt.Sprintf("unknown mode %q", in.Mode)
		e.Fix = fmt.Sprintf("use one of %v", InjectModes)
		e.Err = ErrInvalid
		ps.add(e)
	}
	for _, dep := range slices.Sorted(maps.Keys(in.Prefix)) {
		prefix := in.Prefix[dep]
		e := p.ErrorAt(service, field+".prefix."+dep)
		e.Err = ErrInvalid
		switch {
		case !p.hasService(dep):
			e.Problem = fmt.Sprintf("%q is not a service of this project", dep)
			e.Fix = fmt.Sprintf("use one of %v", p.ServiceNames())
		case !varName.MatchString(prefix):
			e.Problem = fmt.Sprintf("prefix %q is not a variable name", prefix)
			e.Fix = "use letters, digits and _, not starting with a digit (e.g. CACHE)"
		default:
			continue
		}
		ps.add(e)
	}
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// hasService reports whether the project declares service, enabled or
// disabled by profiles: settings for a disabled service are not mistakes.
func (p *Project) hasService(name string) bool {
	if _, ok := p.Project.Services[name]; ok {
		return true
	}
	_, ok := p.DisabledServices[name]
	return ok
}

// ErrorAt starts a user error about field (a dotted path: below the service,
// or from the top level when service is empty, e.g. "environment.URL"),
// located at the line that writes it, else at the closest enclosing key that
// is written, else at the first compose file. The caller fills in Problem,
// Fix and Err.
func (p *Project) ErrorAt(service, field string) *Error {
	path := field
	if service != "" {
		path = "services." + service + "." + field
	}
	at := pos{file: p.main}
	for ; path != ""; path = parent(path) {
		if found, ok := p.idx[path]; ok {
			at = found
			break
		}
	}
	return &Error{File: at.file, Line: at.line, Service: service, Field: field}
}

// parent drops the last element of a dotted path.
func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			return path[:i]
		}
	}
	return ""
}
