package docker

import "github.com/stack-deploy/stack/lock"

// LockClient is the engine itself: a project's deploy lock is a container
// on it, next to the project's.
func (d *Driver) LockClient() lock.Client { return d.client }
