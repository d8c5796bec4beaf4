// Package docker is the engine driver for a single Docker Engine: it observes
// a project's containers, networks and volumes (by label, and by name for
// those it did not create), checks services against the Engine API, turns an
// engine.Plan into the engine calls that carry it out (Operations: create
// under a temporary name, connect, stop, start, wait, remove, rename, with
// what undoes each), and makes those calls, waiting for readiness on the
// engine's event stream.
//
// It talks to the engine only through Client, the narrow subset of the
// Docker client it uses (declared in client.go). engine.Diff decides what
// changes and Operations decides every call before the first is made: the
// executor decides nothing. It never prints; it reports progress events.
package docker
