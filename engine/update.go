package engine

import (
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// The orders of a replacement, as deploy.update_config.order names them.
const (
	StopFirst  = "stop-first"  // the old container stops, then the new starts
	StartFirst = "start-first" // the new starts beside the old, which stops once it is ready
)

// The failure actions of deploy.update_config.failure_action.
const (
	FailRollback = "rollback" // every replica of the service returns to what ran before
	FailPause    = "pause"    // the batches not yet begun are not begun
	FailContinue = "continue" // the batches not yet begun go on
)

// Update is how a service's containers are replaced: compose-spec's
// deploy.update_config as one engine honours it.
type Update struct {
	Order string `json:"order"`
	// Parallelism is how many replicas are replaced at once; 0: all.
	Parallelism int `json:"parallelism,omitempty"`
	// Delay is the pause between two batches.
	Delay time.Duration `json:"delay,omitempty"`
	// Monitor is how long a new container must stay ready before it
	// counts as ready.
	Monitor       time.Duration `json:"monitor,omitempty"`
	FailureAction string        `json:"failure_action"`
}

// updateOf decides how s's containers are replaced. Start-first is the
// default for a service the gateway routes to, unless it keeps data on a
// named volume; stop-first otherwise, as Compose has it. A service whose
// containers publish host ports cannot run two at once: start-first on it
// is refused, naming the port.
func updateOf(m *manifest.Project, s types.ServiceConfig) (*Update, error) {
	u := &Update{Order: StopFirst, FailureAction: FailRollback}
	var cfg *types.UpdateConfig
	if s.Deploy != nil {
		cfg = s.Deploy.UpdateConfig
	}
	if len(m.Services[s.Name].Route) > 0 && len(ServiceVolumes(m.Project, s)) == 0 && hostPort(s) == "" {
		u.Order = StartFirst
	}
	if cfg == nil {
		return u, nil
	}
	if cfg.Order != "" {
		u.Order = cfg.Order
	}
	if cfg.Parallelism != nil {
		u.Parallelism = int(*cfg.Parallelism)
	}
	u.Delay, u.Monitor = time.Duration(cfg.Delay), time.Duration(cfg.Monitor)
	if cfg.FailureAction != "" {
		u.FailureAction = cfg.FailureAction
	}
	bad := func(field, problem, fix string) error {
		e := m.ErrorAt(s.Name, "deploy.update_config."+field)
		e.Problem, e.Fix, e.Err = problem, fix, manifest.ErrInvalid
		return e
	}
	switch u.Order {
	case StopFirst:
	case StartFirst:
		if p := hostPort(s); p != "" {
			return nil, bad("order", fmt.Sprintf("start-first, but the service publishes host port %s, which the new container cannot bind while the old one holds it", p),
				"route it through the gateway (x-stack.route) and publish the gateway's port instead, or use order: stop-first")
		}
	default:
		return nil, bad("order", fmt.Sprintf("%q is not an order", u.Order), "use start-first or stop-first")
	}
	switch u.FailureAction {
	case FailRollback, FailPause, FailContinue:
	default:
		return nil, bad("failure_action", fmt.Sprintf("%q is not a failure action", u.FailureAction), "use rollback, pause or continue")
	}
	return u, nil
}

// hostPort names the first host port s publishes ("8080"); empty when it
// publishes none (a port the engine picks, "8080" alone, is not fixed).
func hostPort(s types.ServiceConfig) string {
	for _, p := range s.Ports {
		if p.Published != "" {
			return p.Published
		}
	}
	return ""
}
