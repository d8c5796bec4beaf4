package envinject

import "errors"

// Sentinels for the user errors Apply returns, for errors.Is.
var (
	// ErrTemplate: an {{svc.field}} template names an unknown service or
	// field, or the port of a service that has none.
	ErrTemplate = errors.New("unresolvable address template")
	// ErrCollision: two services injected into one would set the same
	// variable.
	ErrCollision = errors.New("injected variables collide")
	// ErrPort: an expose entry is not a port.
	ErrPort = errors.New("invalid port")
)
