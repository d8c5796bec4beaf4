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

// resolveTemplates replaces the templates in value and returns the services
// they referred to, in order of first use.
func resolveTemplates(value *string, addrs map[string]address, p *manifest.Project) (*string, []string, error) {
	if value == nil || !strings.Contains(*value, "{{") {
		return value, nil, nil
	}
	var (
		b    strings.Builder
		refs []string
		last int
	)
	for _, m := range template.FindAllStringSubmatchIndex(*value, -1) {
		whole, svc, field := (*value)[m[0]:m[1]], (*value)[m[2]:m[3]], (*value)[m[4]:m[5]]
		s, err := resolveTemplate(svc, field, addrs, p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrTemplate, whole, err)
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
	return &out, refs, nil
}

func resolveTemplate(svc, field string, addrs map[string]address, p *manifest.Project) (string, error) {
	a, ok := addrs[svc]
	if !ok {
		if _, disabled := p.DisabledServices[svc]; disabled {
			return "", fmt.Errorf("service %q is not enabled (profiles): enable its profile", svc)
		}
		return "", fmt.Errorf("no service %q in the stack: use one of %v", svc, p.ServiceNames())
	}
	switch field {
	case "host":
		return a.host, nil
	case "port":
		if len(a.ports) == 0 {
			return "", fmt.Errorf("service %q has no port: %s", svc, a.source)
		}
		return strconv.Itoa(a.ports[0].num), nil
	default:
		return "", fmt.Errorf("unknown field %q: use host or port", field)
	}
}
