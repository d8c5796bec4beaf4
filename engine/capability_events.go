package engine

import (
	"context"
	"time"
)

// EventWatcher follows what happens to a project's containers
// (`stack events`).
type EventWatcher interface {
	// Events calls event for each lifecycle event of the project's service
	// containers (not one-offs) of the services o names (all when none), as
	// they happen, until ctx is cancelled or o.Until passes. Calls never
	// overlap.
	Events(ctx context.Context, project string, o EventsOptions, event func(Event)) error
}

// EventsOptions are `stack events`' flags.
type EventsOptions struct {
	Services []string
	// Since replays the events from then on, Until ends the stream then: a
	// time or a duration ago, as `docker events` takes them; empty: from
	// now, and without end.
	Since, Until string
}

// The lifecycle events EventWatcher reports; the engine's own names. The
// execs a healthcheck runs every interval, and the reads of tools (top,
// archive, attach), are left out.
var EventActions = []string{
	"create", "start", "restart", "health_status", "pause", "unpause",
	"kill", "oom", "die", "stop", "rename", "update", "destroy",
}

// Event is one thing that happened to a container.
type Event struct {
	// Type is what it happened to: "container" (empty means it too) on
	// one engine; on a Swarm "service" or "task".
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	// Container is its name, ID its engine ID.
	Container string `json:"container"`
	ID        string `json:"id"`
	// Action is what happened, as the engine names it: "start", "die",
	// "health_status: healthy".
	Action string `json:"action"`
	// Attributes are what the engine says of it (exitCode on die, signal
	// on kill, image, name), without stack's own labels.
	Attributes map[string]string `json:"attributes"`
}
