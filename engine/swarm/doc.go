// Package swarm is the Docker Swarm driver: it converges a compose project
// on a Swarm cluster through one of its managers, each compose service a
// Swarm service, with the plan, the verbs and the address injection of one
// engine.
//
// The mapping (map.go and the files it calls) decides everything about a
// service's spec from compose-go's model: names, labels, the hash that
// makes a no-op deploy change nothing, and the warnings, one per field
// Swarm cannot honour, naming service and field; nothing is silently
// dropped. docker/cli's cli/compose/convert was the reference table; this
// is its own code. A service that others wait for with
// service_completed_successfully runs as a job, once.
//
// The driver (driver.go) implements engine.Driver:
//
//   - Resolve (images.go) builds what has build: on the local engine,
//     pushes it to the registry the nodes pull from, and pins every service
//     to repo@sha256, so that every node runs the same bytes; Facts reads
//     what an image EXPOSEs from there without pulling it.
//   - Observe (state.go) gives Diff each Swarm service as the replicas its
//     spec asks for, with the spec's hash (engine.Hasher: the spec hash
//     covers what the compose service holds only by reference, such as a
//     secret's content), so Diff's create, recreate (an update), scale and
//     remove mean what they say; the manager's own terms travel in
//     engine.Observed.Driver for Operations.
//   - Operations (ops.go) is one create, update or remove per service,
//     each followed by a wait until it converged, dependants after their
//     dependencies' waits; networks, secrets and configs around them.
//     Rolling out and rolling back are Swarm's own (update_config,
//     failure_action rollback): nothing here is a transaction.
//   - The executor (execute.go) makes the calls; its waits (wait.go) read
//     the project's tasks from one watcher (watch.go), on the manager's
//     service events and every 100ms, and report per service where it
//     stands and why a task cannot run.
//
// Watching a project (stats.go, events.go, logs.go): logs and events come
// from the manager (its service logs, with each line's task and node; its
// service events and the tasks' changes of state); a task container's
// resource usage only from its node's own engine, which nodes.go reaches
// where STACK_SWARM_NODE_HOSTS says (the manager's node as the manager),
// saying so for a node it cannot reach.
//
// Volumes live on the nodes, each made by the first task that mounts it
// there; the manager knows them only from the services' mounts, and can
// remove a volume from its own node only (down -v says so for the others).
//
// It talks to a manager only through Client, the narrow subset of the
// Docker client it uses, and to the local engine through Images and an
// image inspector. It never prints: progress goes to the context's sink.
package swarm
