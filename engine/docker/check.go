package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stack-deploy/stack/engine"
)

// Check maps every container the plan would create to the Engine API
// without changing anything: an error names the file, the service and the
// field the engine would refuse; the warnings name the fields it cannot
// honour (ignored if the plan is applied). Applying a plan checks it first.
func (d *Driver) Check(ctx context.Context, plan *engine.Plan) ([]string, error) {
	d.client.NegotiateAPIVersion(ctx)
	warnings, err := check(plan, d.client.ClientVersion())
	out := make([]string, 0, len(warnings))
	for _, w := range warnings {
		out = append(out, w.message)
	}
	return out, err
}

type warning struct{ resource, action, message string }

func check(plan *engine.Plan, apiVersion string) ([]warning, error) {
	var (
		warnings []warning
		errs     []error
	)
	for _, a := range plan.Actions {
		if a.Type() != "service" || (a.Kind != engine.Create && a.Kind != engine.Recreate && a.Kind != engine.Scale) {
			continue
		}
		svc, ok := plan.Desired.Project.Services[a.Name()]
		if !ok {
			continue
		}
		_, ws, err := containerSpec(plan.Desired.Project, svc, map[string]string{}, apiVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", strings.Join(plan.Desired.ComposeFiles, ", "), err))
		}
		for _, w := range ws {
			warnings = append(warnings, warning{a.Resource, string(a.Kind), w})
		}
	}
	return warnings, errors.Join(errs...)
}
