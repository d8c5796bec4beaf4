package swarm

import "github.com/stack-deploy/stack/engine"

// createsNetwork reports whether plan creates a network: a plan that
// converges only what a service needs, its own service left as it is (the
// release phase's before steps, stack run), still needs the desired
// networks' specs.
func createsNetwork(plan *engine.Plan) bool {
	for _, a := range plan.Actions {
		if a.Type() == "network" && a.Kind == engine.Create {
			return true
		}
	}
	return false
}
