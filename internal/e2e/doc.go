// Package e2e is the harness for end-to-end tests: it builds the stack binary
// once, drives it like a user against the real Docker engine, gives each test
// a unique project name and removes the containers, networks and volumes of
// that project when the test ends (images are the tests' own to remove).
// Swarm hands a test the multi-node Docker Swarm of scripts/swarm-lab.sh,
// starting it when it is not up, and SwarmProject cleans a project off it.
// Kube hands a test the one-node Kubernetes of scripts/kube-lab.sh the same
// way (its KUBECONFIG, the node's address and the registry it pulls from).
// Tests that use it fail, never skip, when no engine answers; only `go test
// -short` leaves them out.
package e2e
