package docker

import "github.com/stack-deploy/stack/lock"

// Locks are containers on the engine itself: a project's deploy lock lives
// next to the project's containers.
func (d *Driver) Locks() lock.Locks { return lock.OnEngine(d.client) }
