// Package image makes the images a stack needs present on the engine: it
// builds services that have a build section, skips builds whose inputs did
// not change (a digest of the inputs stored as an image label), pulls images
// by pull_policy, and pushes images to their registries with the
// credentials of the Docker config.
//
// Builds go through the BuildKit the engine runs itself, reached over the
// Engine API as buildx's docker driver reaches it (no buildx or docker CLI
// needed): the context (after .dockerignore), the Dockerfile, build secrets,
// ssh agents and registry credentials travel in a BuildKit session, and the
// image is exported into the engine's image store under its tags. An engine
// without BuildKit (or DOCKER_BUILDKIT=0) builds with its classic builder,
// with a warning naming what that cannot do. What the engine's BuildKit
// cannot do (a custom build network, platforms it does not build, cache
// export on engine 20.10, ...) is refused before anything is built, naming
// the service and field.
//
// It talks to the engine only through the narrow Client and BuildKit
// interfaces and never prints: build steps, pull and push status are
// progress events. It does not create, start or remove containers, networks
// or volumes; that is package engine's job.
package image
