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
