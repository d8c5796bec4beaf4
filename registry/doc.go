// Package registry moves released images between registries and records what
// a release is: lock files that pin every service of a manifest to an
// immutable image digest (repo@sha256:...), a store of them per environment,
// publishing built images into an environment's registry, and promotion of a
// release from one environment's registry to another's by digest.
//
// Promotion talks to registries only (go-containerregistry's remote package,
// credentials from the Docker config): no Docker daemon, no rebuild, no
// re-compression, so what arrives in prod is byte for byte what passed
// staging.
//
// An environment's release history (History: its locks, deploys and
// verifications) is kept twice: as files in the checkout (.stack/releases,
// the readable copy) and as OCI artifacts in the environment's registry
// (records.go, the copy every checkout and CI runner shares), one per
// record so that concurrent writers lose nothing. What a release's history
// says of it (Status), which release a rollback returns to
// (RollbackTarget) and whether one may be promoted (CheckVerified) are pure
// functions of that history. Nothing here prints; progress goes out as progress events. It does
// not build images (package image does) nor run containers (package engine).
package registry
