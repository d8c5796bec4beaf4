// Package release runs what a deploy runs around its changes besides the
// changes themselves: the release phase (x-stack.release's before and
// after steps, each a one-off container of a service, RunPhase) and an
// environment's checks (environments.E.verify, Verify). Both go through a
// driver's engine.Runner, so they work wherever `stack run` does.
//
// It decides nothing about when they run (package deploy does: before
// once the images are present and before any change, after once every
// service is ready) and records nothing (package registry keeps the
// history); it never prints: output goes to the writer a caller gives, and
// progress as events.
package release
