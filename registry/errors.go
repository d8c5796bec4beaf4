package registry

import (
	"errors"

	"github.com/stack-deploy/stack/image"
)

// Sentinels, checked with errors.Is.
var (
	// ErrLockMismatch: a lock does not cover the manifest's services, was
	// made from other compose files, or for another environment.
	ErrLockMismatch = errors.New("lock does not match the manifest")
	// ErrInvalidLock: a lock file cannot be read as a lock.
	ErrInvalidLock = errors.New("invalid lock file")
	// ErrNoRelease: an environment has no lock yet.
	ErrNoRelease = errors.New("no release")
	// ErrNoRegistry: an environment sets no registry to release or promote
	// into; the one sentinel for "no registry", image's.
	ErrNoRegistry = image.ErrNoRegistry
	// ErrDigestMismatch: an image arrived under another digest than it left with.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNoRollback: no release qualifies to roll back to.
	ErrNoRollback = errors.New("nothing to roll back to")
	// ErrNotVerified: a release is not verified where it is promoted from.
	ErrNotVerified = errors.New("not verified")
)
