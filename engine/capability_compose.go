package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// The capabilities of the verbs Docker Compose has and the converge does not
// need: volumes, export, commit, attach, and the file sync of watch. Each is
// optional: a driver without one makes the verb say so (Capability).

// VolumeLister lists the volumes a project created (`stack volumes`).
type VolumeLister interface {
	Volumes(ctx context.Context, project string) ([]Volume, error)
}

// Volume is one volume of a project.
type Volume struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Scope      string            `json:"scope"`
	Mountpoint string            `json:"mountpoint"`
	Labels     map[string]string `json:"labels,omitempty"`
	Created    time.Time         `json:"created,omitzero"`
}

// Exporter writes a container's filesystem as a tar stream (`stack export`).
type Exporter interface {
	Export(ctx context.Context, c Container, w io.Writer) error
}

// Committer makes an image of a container's changes (`stack commit`).
type Committer interface {
	// Commit returns the new image's ID.
	Commit(ctx context.Context, c Container, o CommitOptions) (string, error)
}

// CommitOptions are `docker commit`'s.
type CommitOptions struct {
	// Reference names the image (repo[:tag]); empty: untagged.
	Reference string
	Message   string
	Author    string
	// Pause pauses the container while it is committed.
	Pause bool
	// Changes are Dockerfile instructions applied to the image's config.
	Changes []string
}

// Attacher connects this terminal to a running container's streams
// (`stack attach`).
type Attacher interface {
	// Attach copies o.Stdin to the container (unless NoStdin) and its
	// output to o.Stdout and o.Stderr until it exits, ctx ends, or the
	// user types the detach keys.
	Attach(ctx context.Context, c Container, o AttachOptions) error
}

// AttachOptions are `docker attach`'s.
type AttachOptions struct {
	NoStdin bool
	// DetachKeys overrides the engine's detach sequence ("ctrl-p,ctrl-q").
	DetachKeys string
	// Raw, when set, puts this side's terminal in raw mode and returns what
	// restores it: the driver calls it when the container has a terminal of
	// its own (tty: true), which then gets the keys as typed.
	Raw func() (restore func())
	// Sizes, when set, gives this side's terminal size, first as it is,
	// then at every change: the driver sizes the container's terminal
	// (tty: true) to each, as docker attach does on SIGWINCH.
	Sizes <-chan TerminalSize

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct {
	Height, Width uint
}

// Syncer applies file changes to running containers (watch's sync): the
// files are copied in as a tar and deleted paths removed, through the
// engine's API.
type Syncer interface {
	// Sync applies changes to every running container of service (not
	// one-offs): each local file copied to its container path, each
	// deletion removed.
	Sync(ctx context.Context, project, service string, changes []FileChange) error
}

// FileChange is one path of a watch's sync.
type FileChange struct {
	// Local is the path on this machine; empty for a deletion.
	Local string
	// Container is the path in the container.
	Container string
	// Delete removes Container instead of copying.
	Delete bool
}

// ErrNotRunning: a verb needs a running container and the one it picked is
// not (kept here, not in errors.go, while errors.go is being edited).
var ErrNotRunning = errors.New("not running")

// ErrOneEngine explains why the verbs that act on a container (attach,
// export, commit) or on an engine's volumes (volumes) cannot act on a
// Swarm: its tasks and their volumes are on its nodes.
var ErrOneEngine = errors.New("it acts on one Docker engine's containers and volumes, and a Swarm's tasks run on its nodes: run it with --orchestrator docker against the node (DOCKER_HOST)")
