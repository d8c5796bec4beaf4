// Package docker is the engine driver for a single Docker Engine: it observes
// a project's containers, networks and volumes by label and carries out the
// actions of an engine.Plan (create networks and volumes, create, start,
// replace and remove containers, wait for readiness on the engine's event
// stream).
//
// It talks to the engine only through Client, the narrow subset of the
// Docker client it uses (declared in client.go), and engine.Diff decides what
// to do; the one thing it learns at apply time is a HEALTHCHECK declared only
// in an image, which makes it wait for healthy where the plan said started.
// It never prints; it reports progress events.
package docker
