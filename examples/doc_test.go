// Package examples_test drives the runnable projects under examples/ with the
// built stack binary against the real engine, the way their READMEs tell a
// user to, and runs each example's own unit tests: every example is a Go
// module of its own (so a user can copy its directory), which `go test ./...`
// at the repository root does not enter.
package examples_test
