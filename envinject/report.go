package envinject

import (
	"fmt"
	"maps"
	"slices"

	"github.com/stack-deploy/stack/manifest"
)

// Report says, by service name, what Apply did.
type Report map[string]ServiceReport

// ServiceReport is the final environment of one service and where each
// variable came from.
type ServiceReport struct {
	Service string              `json:"service"`
	Mode    manifest.InjectMode `json:"mode"`
	// Variables is the final environment, sorted by name.
	Variables []Variable `json:"variables"`
	// Notes explain what was not injected and why (a dependency without a
	// port, one left out by profiles).
	Notes []string `json:"notes,omitempty"`
}

// Origin says whether the user set a variable or stack injected it.
type Origin string

// The origins of a variable.
const (
	Declared Origin = "declared" // environment or env_file
	Injected Origin = "injected"
)

// Variable is one variable of a service's final environment.
type Variable struct {
	Name string `json:"name"`
	// Value is nil for a variable declared without a value that the shell
	// does not set either: the container does not get it.
	Value  *string `json:"value"`
	Origin Origin  `json:"origin"`
	// From is, for an injected variable, the service whose address it is.
	From string `json:"from,omitempty"`
	// Overrides is, for a declared variable, the service whose injected
	// value it replaced.
	Overrides string `json:"overrides,omitempty"`
	// Templates are the services a declared value's templates referred to.
	Templates []string `json:"templates,omitempty"`
	// Note says where an injected value came from (which port source).
	Note string `json:"note,omitempty"`
	// Pending are the templates left in Value because the port they name
	// is not known yet: its service's image is not on the target. Nothing
	// may run with them; see Report.Pending.
	Pending []string `json:"pending,omitempty"`
}

// Pending lists, as `service "web": URL: {{db.port}}`, every template left
// unresolved because the image it needs is not on the target yet: fine for a
// plan, an error for anything that starts containers.
func (r Report) Pending() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(r)) {
		for _, v := range r[name].Variables {
			for _, t := range v.Pending {
				out = append(out, fmt.Sprintf("service %q: %s: %s", name, v.Name, t))
			}
		}
	}
	return out
}
