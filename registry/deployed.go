package registry

import (
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
)

// Running is what a project runs on an engine: for each service with a
// running container (or task, or pod), per replica, the repo@sha256 names
// of the image it runs (engine.ReleaseReader).
type Running map[string][][]string

// RunsLock reports whether the engine runs exactly l: something runs, and
// every running container runs the image l pins for its service.
func (r Running) RunsLock(l *Lock) bool {
	if len(r) == 0 {
		return false
	}
	for svc, containers := range r {
		si, ok := l.Services[svc]
		if !ok {
			return false
		}
		for _, names := range containers {
			if !slices.ContainsFunc(names, func(n string) bool { return sameReference(n, si.Image) }) {
				return false
			}
		}
	}
	return true
}

// sameReference compares image references as a registry sees them: the
// engine writes Docker Hub's repositories short (org/web@sha256:...), a lock
// in full (index.docker.io/org/web@sha256:...).
func sameReference(a, b string) bool {
	ra, errA := name.ParseReference(a)
	rb, errB := name.ParseReference(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ra.Context().Name() == rb.Context().Name() && ra.Identifier() == rb.Identifier()
}
