package engine

import "errors"

// ErrCycle is returned when a plan's actions wait for each other in a cycle.
var ErrCycle = errors.New("dependency cycle")

// ErrSkipped marks an action that was not attempted because something it
// waits for failed or the run was interrupted.
var ErrSkipped = errors.New("skipped")

// ErrTimeout is returned when a service is not ready within the timeout.
var ErrTimeout = errors.New("timed out")
