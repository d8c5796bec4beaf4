package image

import "errors"

var (
	// ErrNotFound: an image a service needs is neither on the engine nor
	// pullable under its pull_policy.
	ErrNotFound = errors.New("image not found")
	// ErrBuildFailed: the engine ran a build and a step failed.
	ErrBuildFailed = errors.New("build failed")
	// ErrUnauthorized: the registry refused the credentials (or their absence).
	ErrUnauthorized = errors.New("registry refused the credentials")
	// ErrNoRegistry: there is no registry to push to: a service's image
	// name carries none, or an environment sets none (registry's).
	ErrNoRegistry = errors.New("no registry")
	// ErrPushedOther: the registry stored another image than the one meant
	// to be pushed (its name on the engine moved during the push).
	ErrPushedOther = errors.New("pushed another image")
	// ErrNoBuildKit: the engine answers, but no BuildKit answers through
	// it; builds take its classic builder.
	ErrNoBuildKit = errors.New("the engine's BuildKit does not answer")
)

// ErrNoEngine: no Docker engine answers where the images are built and
// inspected.
var ErrNoEngine = errors.New("no engine answers")
