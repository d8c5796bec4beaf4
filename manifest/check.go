package manifest

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stack-deploy/stack/internal/dag"
)

// checker validates the typed model compose-go built with its own
// consistency check off, so that every broken reference is reported at once,
// each at the line that causes it.
type checker struct {
	p    *types.Project
	idx  index
	main string // the first compose file: where errors go that no line explains
	ps   *problems

	// inputs are the files checkFile was asked about: what compose-go
	// will read (or find missing) once the model is resolved.
	inputs []string
}

func (c *checker) check() {
	names := c.declarationOrder()
	for _, name := range names {
		s := c.p.Services[name]
		if s.Image == "" && s.Build == nil && s.Provider == nil {
			at := c.idx.locate(c.main, name)
			c.ps.add(&Error{
				File: at.file, Line: at.line, Service: name, Field: "image",
				Problem: "the service has neither image nor build",
				Fix:     "add image: (e.g. image: redis:7-alpine) or build: (e.g. build: ./" + name + ")",
				Err:     ErrNoImage,
			})
		}
		c.checkDependencies(name, s)
		c.checkSelfReference(name, s)
	}
	c.checkCycles(names)
	c.checkContainerNames(names)
}

func (c *checker) checkDependencies(name string, s types.ServiceConfig) {
	for _, dep := range sortedDeps(s) {
		if _, ok := c.p.Services[dep]; ok {
			continue
		}
		at := c.idx.locate(c.main, name, "depends_on."+dep, "depends_on="+dep, "depends_on")
		e := &Error{File: at.file, Line: at.line, Service: name, Field: "depends_on"}
		if disabled, ok := c.p.DisabledServices[dep]; ok {
			if !s.DependsOn[dep].Required {
				continue // compose starts the service without an optional dependency
			}
			profiles := strings.Join(disabled.Profiles, ",")
			e.Problem = fmt.Sprintf("%q is only enabled by profile %s, which is not active", dep, profiles)
			e.Fix = fmt.Sprintf("enable it with --profile %s (or COMPOSE_PROFILES=%s), or mark the dependency required: false", disabled.Profiles[0], profiles)
			e.Err = ErrDisabledDependency
		} else {
			e.Problem = fmt.Sprintf("%q is not a service of this project", dep)
			e.Fix = fmt.Sprintf("define services.%s, correct the name, or remove it from depends_on", dep)
			e.Err = ErrUnknownDependency
		}
		c.ps.add(e)
	}
}

// checkFile checks a file compose-go is about to read for service's field
// (env_file, label_file). A missing one is compose-go's to report: it may be
// optional.
func (c *checker) checkFile(service, field, path string) {
	c.inputs = append(c.inputs, path)
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if err := checkRegular(fi); err != nil {
		c.ps.add(fileError(c.idx.locate(c.main, service, field), service, field, path, err))
	}
}

// checkCycles reports each dependency loop once, starting from the service
// declared first, as `web -> api -> web`.
func (c *checker) checkCycles(names []string) {
	seen := map[string]bool{}
	cycles := dag.Cycles(names, func(n string) []string {
		var deps []string
		for _, dep := range sortedDeps(c.p.Services[n]) {
			if _, ok := c.p.Services[dep]; ok && dep != n { // undefined, or itself: reported on their own
				deps = append(deps, dep)
			}
		}
		return deps
	})
	for _, cycle := range cycles {
		c.addCycle(cycle, seen)
	}
}

func (c *checker) addCycle(cycle []string, seen map[string]bool) {
	members := append([]string{}, cycle[:len(cycle)-1]...)
	sort.Strings(members)
	key := strings.Join(members, "\x00")
	if seen[key] {
		return
	}
	seen[key] = true
	from, to := cycle[0], cycle[1]
	at := c.idx.locate(c.main, from, "depends_on."+to, "depends_on="+to, "depends_on")
	c.ps.add(&Error{
		File: at.file, Line: at.line, Service: from, Field: "depends_on",
		Problem: "dependency cycle " + strings.Join(cycle, " -> "),
		Fix:     "services cannot wait for each other: remove one of these depends_on entries",
		Err:     ErrDependencyCycle,
	})
}

func (c *checker) checkContainerNames(names []string) {
	owner := map[string]string{}
	for _, name := range names {
		cn := c.p.Services[name].ContainerName
		if cn == "" {
			continue
		}
		first, dup := owner[cn]
		if !dup {
			owner[cn] = name
			continue
		}
		at := c.idx.locate(c.main, name, "container_name")
		c.ps.add(&Error{
			File: at.file, Line: at.line, Service: name, Field: "container_name",
			Problem: fmt.Sprintf("%q is also the container_name of service %q", cn, first),
			Fix:     "container names are unique on the engine: give each service its own, or remove container_name",
			Err:     ErrDuplicateContainerName,
		})
	}
}

// declarationOrder lists the enabled services in the order the files declare
// them (then by name), so errors and cycles read in the user's order.
func (c *checker) declarationOrder() []string {
	names := make([]string, 0, len(c.p.Services))
	for n := range c.p.Services {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := c.idx["services."+names[i]], c.idx["services."+names[j]]
		if a.file != b.file {
			return c.fileRank(a.file) < c.fileRank(b.file)
		}
		if a.line != b.line {
			return a.line < b.line
		}
		return names[i] < names[j]
	})
	return names
}

func (c *checker) fileRank(file string) int {
	for i, f := range c.p.ComposeFiles {
		if f == file {
			return i
		}
	}
	return len(c.p.ComposeFiles)
}

func sortedDeps(s types.ServiceConfig) []string {
	deps := make([]string, 0, len(s.DependsOn))
	for d := range s.DependsOn {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	return deps
}

var mentionedService = regexp.MustCompile(`services\.([A-Za-z0-9._-]+?)(?:\.|\s|:|$)|service "([^"]+)"`)

// composeError turns an error compose-go returned into an *Error located at
// the service it mentions, when it mentions one.
func composeError(err error, main string, idx index) *Error {
	problem := strings.TrimSuffix(err.Error(), ": "+errdefs.ErrInvalid.Error())
	e := &Error{File: main, Problem: problem, Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	if m := mentionedService.FindStringSubmatch(problem); m != nil {
		e.Service = m[1] + m[2]
		at := idx.locate(main, e.Service)
		e.File, e.Line = at.file, at.line
		// The location already names the service.
		e.Problem = strings.TrimPrefix(problem, fmt.Sprintf("service %q ", e.Service))
	}
	return e
}
