package swarm

import "errors"

// ErrNotPinned: a service's image was not given as a digest reference
// (repo@sha256:...), which every node must run the same bytes of.
var ErrNotPinned = errors.New("image not pinned by digest")

// ErrAPIVersion: the manager's Engine API is older than the mapping needs.
var ErrAPIVersion = errors.New("engine API too old for Swarm")

// ErrInvalid: the compose model asks for something Swarm refuses, such as
// an ingress-published port on a dnsrr service.
var ErrInvalid = errors.New("not valid on Swarm")

// ErrNoObjectID: Service.Resolve was not given the ID of a secret or config
// the service uses.
var ErrNoObjectID = errors.New("no ID for object")

// ErrNotManager: the engine the driver was pointed at is not a Swarm
// manager (a worker, or not in a swarm).
var ErrNotManager = errors.New("not a Swarm manager")

// ErrRolledBack: a service's update failed and Swarm rolled it back (its
// update_config failure_action): the previous version runs.
var ErrRolledBack = errors.New("update rolled back")

// ErrTaskFailed: a service's tasks failed, or a job did not complete.
var ErrTaskFailed = errors.New("task failed")
