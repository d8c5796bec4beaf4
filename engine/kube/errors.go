package kube

import "errors"

// Sentinels of the compose fields Kubernetes cannot take. Each arrives in a
// *manifest.Error that names the file, line, service and field, and says how
// to fix it; check them with errors.Is.
var (
	// ErrInvalidName: a name Kubernetes would give an object is not one it
	// takes (a service's name is its Service's, a DNS-1035 label).
	ErrInvalidName = errors.New("invalid Kubernetes name")
	// ErrBindMount: a service mounts a path of the host; a pod's node has
	// no such file.
	ErrBindMount = errors.New("bind mount")
	// ErrPublishedPort: a published port lies outside the NodePort range
	// and the environment does not say expose: loadbalancer.
	ErrPublishedPort = errors.New("published port outside the NodePort range")
	// ErrSharedVolume: a ReadWriteOnce volume is mounted by two services,
	// whose pods could not share its claim.
	ErrSharedVolume = errors.New("volume shared by services")
	// ErrInvalid: any other setting that cannot be mapped (a size that is
	// no quantity, an unreadable secret file, ...).
	ErrInvalid = errors.New("cannot map to Kubernetes")
)
