package envinject

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stack-deploy/stack/manifest"
)

// template matches {{service.field}}; service names may contain dots, so the
// field is what follows the last one.
var template = regexp.MustCompile(`\{\{\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\.([A-Za-z0-9_]+)\s*\}\}`)

// fault is a user mistake found in a value: what is wrong, how to fix it.
type fault struct {
	problem, fix string
}

// resolveTemplates replaces the templates in value and returns the services
// they referred to, in order of first use, and the templates left as they
// are because they name a port not known yet (the image of that service is
// not on the target: see Report.Pending).
func resolveTemplates(value *string, addrs map[string]address, p *manifest.Project) (*string, []string, []string, *fault) {
	if value == nil || !strings.Contains(*value, "{{") {
		return value, nil, nil, nil
	}
	var (
		b       strings.Builder
		refs    []string
		pending []string
		last    int
	)
	for _, m := range template.FindAllStringSubmatchIndex(*value, -1) {
		whole, svc, field := (*value)[m[0]:m[1]], (*value)[m[2]:m[3]], (*value)[m[4]:m[5]]
		s, f := resolveTemplate(svc, field, addrs, p)
		if a := addrs[svc]; f != nil && field == "port" && a.unknown {
			s, f = whole, nil
			pending = append(pending, whole)
		}
		if f != nil {
			f.problem = whole + ": " + f.problem
			return nil, nil, nil, f
		}
		b.WriteString((*value)[last:m[0]])
		b.WriteString(s)
		last = m[1]
		if !slices.Contains(refs, svc) {
			refs = append(refs, svc)
		}
	}
	b.WriteString((*value)[last:])
	out := b.String()
	return &out, refs, pending, nil
}

func resolveTemplate(svc, field string, addrs map[string]address, p *manifest.Project) (string, *fault) {
	a, ok := addrs[svc]
	if !ok {
		if d, disabled := p.DisabledServices[svc]; disabled {
			return "", &fault{fmt.Sprintf("service %q is not enabled", svc), fmt.Sprintf("enable one of its profiles %v", d.Profiles)}
		}
		return "", &fault{fmt.Sprintf("no service %q in the stack", svc), fmt.Sprintf("use one of %v", p.ServiceNames())}
	}
	switch field {
	case "host":
		return a.host, nil
	case "port":
		if len(a.ports) == 0 {
			return "", &fault{fmt.Sprintf("service %q has no port", svc), fmt.Sprintf("declare one: %s", a.source)}
		}
		return strconv.Itoa(a.ports[0].num), nil
	default:
		return "", &fault{fmt.Sprintf("unknown field %q", field), "use host or port"}
	}
}
