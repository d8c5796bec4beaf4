// Package dockerclient builds the Docker Engine API clients every part of
// stack uses (the Docker and Swarm drivers, the image builder, the deploy
// lock), so that they find the engine the way the docker CLI does
// (DOCKER_HOST, the docker context, ssh://) and share one transport's
// settings. It knows nothing of projects or drivers.
package dockerclient
