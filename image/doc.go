// Package image makes the images a stack needs present on the engine: it
// builds services that have a build section through the Engine API (a tar of
// the context that honours .dockerignore as docker does), skips builds whose
// inputs did not change (a digest of the inputs stored as an image label),
// pulls images by pull_policy, and pushes images to their registries with the
// credentials of the Docker config.
//
// It talks to the engine only through the narrow Client interface and never
// prints: build output, pull and push status are progress events. It does not
// create, start or remove containers, networks or volumes; that is package
// engine's job.
package image
