// Package e2e is the harness for end-to-end tests: it builds the stack binary
// once, drives it like a user against the real Docker engine, gives each test
// a unique project name and removes the containers, networks and volumes of
// that project when the test ends (images are the tests' own to remove).
// Tests that use it fail, never skip, when no engine answers; only `go test
// -short` leaves them out.
package e2e
