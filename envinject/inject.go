package envinject

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// Facts is what a deploy target knows about reaching the services of a
// stack; the local engine, Swarm and Kubernetes each answer differently.
type Facts interface {
	// Host is the name under which service is reachable on the stack network.
	Host(service string) string
	// ImagePorts are the EXPOSE ports of service's image, e.g. "6379/tcp"; nil
	// when unknown (image not built or pulled yet), empty when it has none.
	ImagePorts(service string) []string
}

// Apply adds the injected variables to the Environment of every service in
// p.Project.Services and resolves the {{svc.host}}/{{svc.port}} templates in
// their declared values; see the package documentation for the rules. It
// changes p only when it returns no error, and then it returns what it did.
// Call it once per loaded project: a second call would take the first one's
// variables for declared ones.
func Apply(p *manifest.Project, f Facts) (Report, error) {
	names := p.ServiceNames()
	addrs := make(map[string]address, len(names))
	var errs []error
	for _, name := range names {
		a, err := resolveAddress(p, p.Project.Services[name], f)
		if err != nil {
			errs = append(errs, err)
		}
		addrs[name] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	report := make(Report, len(names))
	envs := make(map[string]types.MappingWithEquals, len(names))
	for _, name := range names {
		sr, env, err := injectService(p, name, addrs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		report[name], envs[name] = sr, env
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for name, env := range envs {
		svc := p.Project.Services[name]
		svc.Environment = env
		p.Project.Services[name] = svc
	}
	return report, nil
}

// injection is one variable a service is to receive.
type injection struct {
	value string
	from  string // the service whose address it is
	note  string
}

// injectService computes the final environment of one service.
func injectService(p *manifest.Project, name string, addrs map[string]address) (ServiceReport, types.MappingWithEquals, error) {
	svc := p.Project.Services[name]
	set := p.InjectFor(name)
	sr := ServiceReport{Service: name, Mode: set.Mode, Variables: []Variable{}}
	var errs []error

	injected := map[string]injection{}
	for _, dep := range targets(p, svc, set.Mode, &sr) {
		prefix, renamed := set.Prefix[dep]
		if !renamed {
			prefix = prefixOf(dep)
		}
		a := addrs[dep]
		if len(a.ports) == 0 {
			sr.Notes = append(sr.Notes, fmt.Sprintf("no %s_PORT: %s", prefix, a.source))
		}
		for _, v := range variables(prefix, dep, a) {
			if prev, ok := injected[v.name]; ok && prev.from != dep {
				e := p.ErrorAt(name, collisionField(set))
				e.Problem = fmt.Sprintf("services %q and %q both give %s", prev.from, dep, v.name)
				e.Fix = fmt.Sprintf("rename one with x-stack.inject.prefix, e.g. `x-stack: {inject: {prefix: {%s: %s_2}}}`", dep, prefix)
				e.Err = ErrCollision
				errs = append(errs, e)
				break
			}
			injected[v.name] = v.injection
		}
	}

	env := make(types.MappingWithEquals, len(svc.Environment)+len(injected))
	declared := make(map[string]*Variable, len(svc.Environment))
	for _, k := range slices.Sorted(maps.Keys(svc.Environment)) {
		value, refs, pending, f := resolveTemplates(svc.Environment[k], addrs, p)
		if f != nil {
			e := p.ErrorAt(name, "environment."+k)
			e.Problem, e.Fix, e.Err = f.problem, f.fix, ErrTemplate
			errs = append(errs, e)
			continue
		}
		env[k] = value
		declared[k] = &Variable{Name: k, Value: value, Origin: Declared, Templates: refs, Pending: pending}
	}
	if len(errs) > 0 {
		return ServiceReport{}, nil, errors.Join(errs...)
	}
	for _, k := range slices.Sorted(maps.Keys(injected)) {
		in := injected[k]
		if d, ok := declared[k]; ok {
			d.Overrides = in.from
			continue
		}
		env[k] = &in.value
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if d, ok := declared[k]; ok {
			sr.Variables = append(sr.Variables, *d)
			continue
		}
		in := injected[k]
		sr.Variables = append(sr.Variables, Variable{Name: k, Value: env[k], Origin: Injected, From: in.from, Note: in.note})
	}
	return sr, env, nil
}

// collisionField is where the colliding services come from.
func collisionField(set manifest.Inject) string {
	if set.Mode == manifest.InjectAll {
		return manifest.ExtensionKey + ".inject.mode"
	}
	return "depends_on"
}

// targets are the services whose addresses svc receives in mode, in name
// order; dependencies the profiles left out are noted in sr.
func targets(p *manifest.Project, svc types.ServiceConfig, mode manifest.InjectMode, sr *ServiceReport) []string {
	var out []string
	switch mode {
	case manifest.InjectNone:
	case manifest.InjectAll:
		for _, name := range p.ServiceNames() {
			if name != svc.Name {
				out = append(out, name)
			}
		}
	case manifest.InjectDependencies:
		for _, dep := range slices.Sorted(maps.Keys(svc.DependsOn)) {
			if _, ok := p.Project.Services[dep]; !ok {
				sr.Notes = append(sr.Notes, fmt.Sprintf("nothing for %s: it is not enabled (profiles)", dep))
				continue
			}
			if dep != svc.Name {
				out = append(out, dep)
			}
		}
	}
	return out
}

type namedInjection struct {
	name string
	injection
}

// variables are the ones a dependant gets for service dep at address a.
func variables(prefix, dep string, a address) []namedInjection {
	vs := []namedInjection{{prefix + "_HOST", injection{a.host, dep, ""}}}
	if len(a.ports) == 0 {
		return vs
	}
	vs = append(vs, namedInjection{prefix + "_PORT", injection{strconv.Itoa(a.ports[0].num), dep, a.source}})
	if len(a.ports) > 1 {
		for _, pt := range a.ports {
			vs = append(vs, namedInjection{
				fmt.Sprintf("%s_PORT_%d_%s", prefix, pt.num, strings.ToUpper(pt.proto)),
				injection{fmt.Sprintf("%s://%s:%d", pt.proto, a.host, pt.num), dep, fmt.Sprintf("one of the %d ports of %s", len(a.ports), dep)},
			})
		}
	}
	return vs
}

// prefixOf is a service name upper-cased with every character other than
// A-Z and 0-9 turned into _.
func prefixOf(service string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, service)
}
