package lock

import "context"

// Locks is where a driver keeps its projects' deploy locks: what every verb
// that changes a project asks of it, whatever the engine. The lock
// container of this package is the Docker engine's and a Swarm manager's
// (OnEngine); a Kubernetes driver keeps a coordination.k8s.io Lease in the
// project's namespace. An implementation takes over the lock of a holder
// that is gone (its heartbeats stopped), reports waiting and taking over as
// progress events, and returns a *HeldError (errors.Is ErrHeld) when
// o.Wait runs out.
type Locks interface {
	// Acquire takes project's lock for o.Holder, waiting up to o.Wait while
	// another run holds it, and keeps it (heartbeats) until released.
	Acquire(ctx context.Context, project string, o Options) (Held, error)
	// Free reports, in one look, whether nobody holds project's lock; the
	// lock of a holder that is gone may count as held.
	Free(ctx context.Context, project string) (bool, error)
	// Status returns who holds project's lock, nil when nobody does; a lock
	// whose holder is gone is cleared, not shown.
	Status(ctx context.Context, project string) (*Holder, error)
	// Break removes project's lock whoever holds it and returns whose it
	// was (nil: nobody's); a holder still running learns it within a
	// heartbeat (Held.Lost).
	Break(ctx context.Context, project string) (*Holder, error)
}

// Held is a lock taken by Acquire.
type Held interface {
	// Context is cancelled when the lock is lost: the work it protects stops.
	Context() context.Context
	// Lost says why the lock was lost, nil while it is held.
	Lost() error
	// Release lets the lock go; a second call does nothing.
	Release(ctx context.Context) error
}

// OnEngine keeps the locks as containers on the Docker engine c talks to
// (a Swarm's manager included): see the package documentation.
func OnEngine(c Client) Locks { return engineLocks{c} }

type engineLocks struct{ c Client }

func (e engineLocks) Acquire(ctx context.Context, project string, o Options) (Held, error) {
	return Acquire(ctx, e.c, project, o)
}

func (e engineLocks) Free(ctx context.Context, project string) (bool, error) {
	return Free(ctx, e.c, project)
}

func (e engineLocks) Status(ctx context.Context, project string) (*Holder, error) {
	return Status(ctx, e.c, project)
}

func (e engineLocks) Break(ctx context.Context, project string) (*Holder, error) {
	return Break(ctx, e.c, project)
}
