// Package swarm is the groundwork of the Docker Swarm driver: the pure
// mapping of a compose project (compose-go's model, as manifest loads it) to
// what a Swarm manager is given (service, network, secret and config specs
// and the volumes tasks mount), and the observation of what a manager holds
// for a project, found by the io.stack.project label.
//
// Map decides everything about a service's spec: names, labels, the config
// hash that makes a no-op deploy change nothing (compare Service.Hash.Sum
// with ObservedService.Hash), and the warnings, one per field Swarm cannot
// honour, naming service and field; nothing is silently dropped. It reads
// no engine: the caller resolves images to repo@sha256 digests first, and
// gives the manager's API version so fields the manager is too old for are
// warnings too. docker/cli's cli/compose/convert was the reference table for
// the mapping; this is its own code, from compose-go's types.
//
// It must not create, update or remove anything, nor wait for anything: the
// driver does that through a plan, and the engine decides the order. It
// talks to a manager only through Client, the narrow subset of the Docker
// client it uses (client.go). It never prints.
package swarm
