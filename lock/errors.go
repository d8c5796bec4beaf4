package lock

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrHeld is returned by Acquire when another run held the lock for
	// longer than it may wait; a *HeldError says who.
	ErrHeld = errors.New("the deploy lock is held by another run")
	// ErrLost is the cause of a Lock's context when the lock ended while it
	// was held: removed by a forced release, or given up by the engine after
	// it stopped hearing from the holder.
	ErrLost = errors.New("the deploy lock was lost while this run held it")
	// ErrArch: the engine runs on an architecture the lock process is not
	// written for.
	ErrArch = errors.New("the deploy lock supports engines on amd64 and arm64 only")
	// ErrNotLock: a container not made by stack has the lock container's
	// name.
	ErrNotLock = errors.New("a container that is not a stack deploy lock has its name")
)

// HeldError is ErrHeld with the holder and how long Acquire waited.
type HeldError struct {
	Project string
	Holder  Holder
	Waited  time.Duration
}

func (e *HeldError) Error() string {
	holder := "another run"
	if e.Holder != (Holder{}) {
		holder = e.Holder.String()
	}
	return fmt.Sprintf("the deploy lock of project %q is held by %s (waited %s)", e.Project, holder, e.Waited.Round(time.Second))
}

// Is makes errors.Is(err, ErrHeld) hold.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }
