package manifest

import (
	"bytes"
	"fmt"
)

// Render returns the model as `docker compose config` prints it, in format
// "yaml" or "json": compose-go's encoding of the project, with every $
// written as $$ so that the output is itself a valid compose file that
// interpolates to the same model.
func (p *Project) Render(format string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch format {
	case "yaml":
		b, err = marshalYAML(p.Project)
	case "json":
		b, err = p.MarshalJSON()
	default:
		return nil, fmt.Errorf("rendering the model as %q: use yaml or json", format)
	}
	if err != nil {
		return nil, fmt.Errorf("rendering the model as %s: %w", format, err)
	}
	return bytes.ReplaceAll(b, []byte("$"), []byte("$$")), nil
}

// ImageName is the image a service runs: its image:, or for a service that
// only builds, <project>-<service> as Docker Compose names it.
func (p *Project) ImageName(service string) string {
	if s, ok := p.Project.Services[service]; ok && s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + service
}

// ServiceOrder lists the enabled services dependencies first, and otherwise
// by name: the order `docker compose config --services` prints, made
// deterministic (Compose's depends on map iteration).
func (p *Project) ServiceOrder() []string {
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, dep := range sortedDeps(p.Project.Services[name]) {
			if _, ok := p.Project.Services[dep]; ok {
				visit(dep)
			}
		}
		order = append(order, name)
	}
	for _, name := range p.ServiceNames() {
		visit(name)
	}
	return order
}
