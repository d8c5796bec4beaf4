package engine

import (
	"context"
	"io"
	"time"
)

// The verbs that act on containers a project already has. The CLI picks the
// containers from what Lister.Ps lists (by service, replica number, state),
// so each capability acts on exactly those; a driver reports each container
// it acts on as a progress event (resource "container:<name>").

// Killer sends a signal to containers (`stack kill`).
type Killer interface {
	// Kill sends signal (a name such as SIGTERM, or a number) to each of
	// cs, all at once.
	Kill(ctx context.Context, cs []Container, signal string) error
}

// Pauser suspends and resumes every process of containers (`stack pause`,
// `stack unpause`).
type Pauser interface {
	Pause(ctx context.Context, cs []Container) error
	Unpause(ctx context.Context, cs []Container) error
}

// Remover removes stopped containers (`stack rm`).
type Remover interface {
	// Remove removes each of cs (with volumes, the anonymous volumes it
	// mounts too), keeping first the last lines of a service container's
	// output for `stack logs --previous`.
	Remove(ctx context.Context, project string, cs []Container, volumes bool) error
}

// Waiter waits for containers to stop (`stack wait`).
type Waiter interface {
	// Wait returns once every one of cs has stopped, calling exited for
	// each as it does, with its exit code (calls never overlap).
	Wait(ctx context.Context, cs []Container, exited func(c Container, code int)) error
}

// Copier copies files between containers and this machine (`stack cp`).
type Copier interface {
	Copy(ctx context.Context, c Container, o CopyOptions) error
}

// CopyOptions describe one copy, with `docker cp`'s meaning of the paths: a
// directory's contents with a trailing "/.", and "-" for a tar stream.
type CopyOptions struct {
	// ToContainer copies LocalPath into ContainerPath; otherwise
	// ContainerPath is copied to LocalPath.
	ToContainer   bool
	ContainerPath string
	LocalPath     string
	// FollowLink copies what a symbolic link at the source points to.
	FollowLink bool
	// Archive keeps the files' owners (uid and gid).
	Archive bool
	// Stdin and Stdout carry the tar stream when LocalPath is "-".
	Stdin  io.Reader
	Stdout io.Writer
}

// Topper lists the processes running in containers (`stack top`).
type Topper interface {
	// Top returns the process table of a running container: the column
	// titles (UID, PID, ..., CMD) and a row per process.
	Top(ctx context.Context, c Container) (titles []string, processes [][]string, err error)
}

// PortResolver says where containers' ports are published (`stack port`).
type PortResolver interface {
	Ports(ctx context.Context, c Container) ([]PortBinding, error)
}

// PortBinding is one private port of a container published on the host.
type PortBinding struct {
	Private  int    `json:"private"`
	Protocol string `json:"protocol"`
	// HostIP is the address it is published on ("0.0.0.0", "::"), HostPort
	// its port there.
	HostIP   string `json:"host_ip"`
	HostPort int    `json:"host_port"`
}

// ImageLister describes the images containers were created from
// (`stack images`).
type ImageLister interface {
	Images(ctx context.Context, cs []Container) ([]ContainerImage, error)
}

// ContainerImage is the image one container runs.
type ContainerImage struct {
	Container Container
	// ID is the image's ID; Repository and Tag the name the container was
	// created with, empty when it was created from an ID.
	ID         string
	Repository string
	Tag        string
	// Platform is os/architecture[/variant]; Size in bytes; Created zero
	// when the image is no longer on the engine.
	Platform string
	Size     int64
	Created  time.Time
}

// ProjectLister lists the projects an engine has (`stack ls`).
type ProjectLister interface {
	// Projects lists every project with a running container (with all,
	// with any container), by name.
	Projects(ctx context.Context, all bool) ([]ProjectSummary, error)
}

// ProjectSummary is one project on an engine.
type ProjectSummary struct {
	Name string
	// States counts its containers by state: running, exited, ...
	States map[string]int
	// ConfigFiles are the compose files its containers were created from
	// (LabelConfigFiles), in order; empty when none carries the label.
	ConfigFiles []string
}
