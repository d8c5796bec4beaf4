package engine

import (
	"errors"

	"github.com/stack-deploy/stack/internal/dag"
)

// ErrCycle is returned when operations or services wait for each other in a
// cycle.
var ErrCycle = dag.ErrCycle

// ErrSkipped marks an operation that was not attempted because something it
// needs failed or the run was interrupted.
var ErrSkipped = dag.ErrSkipped

// ErrTimeout is returned when a service is not ready within the timeout.
var ErrTimeout = errors.New("timed out")

// ErrNoHealthcheck: a dependant waits for a service to be healthy, and
// nothing gives that service a healthcheck.
var ErrNoHealthcheck = errors.New("no healthcheck")

// ErrUnsupported: the orchestrator cannot do what a verb asks.
var ErrUnsupported = errors.New("not supported")

// ErrNoPrevious: `stack logs --previous` found no lines kept from a
// replaced or removed container.
var ErrNoPrevious = errors.New("no previous container")
