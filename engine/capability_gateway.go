package engine

import (
	"context"
	"errors"

	"github.com/stack-deploy/stack/gateway"
)

// ErrNoGateway: the project runs no gateway (or not one with what was
// asked of it, such as its internal CA).
var ErrNoGateway = errors.New("no gateway")

// GatewayReader reads what a project's running gateway knows: its
// counters per route (`stack stats`) and its internal CA (`stack gateway
// ca`).
type GatewayReader interface {
	// RouteMetrics reads the gateway's counters per route; none when the
	// project has no gateway running.
	RouteMetrics(ctx context.Context, project string) ([]gateway.RouteCounters, error)
	// GatewayCA returns the PEM root certificate of the gateway's internal
	// CA; ErrNoGateway when it has none (yet).
	GatewayCA(ctx context.Context, project string) ([]byte, error)
}
