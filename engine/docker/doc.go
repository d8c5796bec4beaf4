// Package docker is the engine driver for a single Docker Engine: it observes
// a project's containers, networks and volumes by label and carries out the
// actions of an engine.Plan (create networks and volumes, create, start,
// replace and remove containers, wait for readiness on the engine's event
// stream).
//
// It talks to the engine only through Client, the narrow subset of the
// Docker client it uses (declared in client.go, the one place to extend it),
// and it never decides what to do: engine.Diff does. It never prints; it
// reports progress events.
package docker
