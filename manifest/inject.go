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
// mode defaulted to InjectDependencies. A misspelt mode, a prefix for a
// service the project does not have, or a prefix that is not a variable name
// is a user error naming the file, the service and the field.
func (p *Project) InjectFor(service string) (Inject, error) {
	out := Inject{Mode: InjectDependencies, Prefix: map[string]string{}}
	if err := p.mergeInject(&out, "top-level "+ExtensionKey, p.Stack.Inject); err != nil {
		return Inject{}, err
	}
	if ext, ok := p.Services[service]; ok {
		if err := p.mergeInject(&out, fmt.Sprintf("service %q: %s", service, ExtensionKey), ext.Inject); err != nil {
			return Inject{}, err
		}
	}
	return out, nil
}

// mergeInject validates in (found at where) and applies it over out.
func (p *Project) mergeInject(out *Inject, where string, in *Inject) error {
	if in == nil {
		return nil
	}
	if in.Mode != "" {
		if !slices.Contains(InjectModes, in.Mode) {
			return fmt.Errorf("%s: %s.inject.mode %q: use one of %v", p.FileList(), where, in.Mode, InjectModes)
		}
		out.Mode = in.Mode
	}
	for _, dep := range slices.Sorted(maps.Keys(in.Prefix)) {
		prefix := in.Prefix[dep]
		if !p.hasService(dep) {
			return fmt.Errorf("%s: %s.inject.prefix: no service %q in the project: use one of %v", p.FileList(), where, dep, p.ServiceNames())
		}
		if !varName.MatchString(prefix) {
			return fmt.Errorf("%s: %s.inject.prefix.%s: %q is not a variable name: use letters, digits and _, not starting with a digit (e.g. CACHE)", p.FileList(), where, dep, prefix)
		}
		out.Prefix[dep] = prefix
	}
	return nil
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

// FileList names the project's compose files, for user errors.
func (p *Project) FileList() string { return p.fileList() }
