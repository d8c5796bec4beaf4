// Package engine decides and orders the work of converging a stack: the
// labels stack puts on what it creates, the config hash that says whether a
// container is current, the pure diff of desired against observed state into
// a Plan of per-resource actions (what users read), and the walker that
// carries out the engine calls a Driver plans for it (an operation graph,
// with transactions that undo what a failed replacement began).
//
// It must not talk to an engine itself: everything engine-specific lives
// behind the Driver interface (engine/docker, engine/swarm), so the planner
// and walker are tested with no engine at all. It never prints; it reports
// progress events (package progress).
package engine
