package engine

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
)

// The verbs beyond converging are optional interfaces a Driver may
// implement; a verb asks for the one it needs with Capability and says
// clearly when the driver lacks it.

// Runner runs one-off containers (`stack run`).
type Runner interface {
	// Run creates and starts a one-off container of a service of p (its
	// addresses injected), streams its output and returns its exit code.
	Run(ctx context.Context, p *manifest.Project, o RunOptions) (int, error)
}

// Execer runs commands in running containers (`stack exec`).
type Execer interface {
	Exec(ctx context.Context, project string, o ExecOptions) (int, error)
}

// Logger streams containers' output (`stack logs`).
type Logger interface {
	// Logs calls line for each line of output of the project's service
	// containers (not one-offs) as o selects, from every container at once
	// (calls for one container come in order, never two at a time); with
	// Follow it returns when every stream ends or ctx is cancelled. With
	// Previous it reads instead the last lines each replaced or removed
	// container left, ErrNoPrevious when none did.
	Logs(ctx context.Context, project string, o LogsOptions, line func(LogLine)) error
}

// Lister lists a project's containers or tasks (`stack ps`).
type Lister interface {
	Ps(ctx context.Context, project string, all bool) ([]Status, error)
}

// Locker keeps the projects' deploy locks where the driver deploys: a lock
// container on a Docker engine or a Swarm's manager, a Lease in a
// Kubernetes namespace. Every verb that changes a project holds its lock.
type Locker interface {
	Locks() lock.Locks
}

// ReleaseReader reports the images a project runs (`stack releases`), where
// its containers are not on the image builder's engine (a Swarm's nodes).
type ReleaseReader interface {
	// RunningImages returns, by service, per running container or task,
	// the repo@sha256 names of its image.
	RunningImages(ctx context.Context, project string) (map[string][][]string, error)
}

// Capability returns d as the interface T, or an error naming the verb and
// the orchestrator that cannot do it.
func Capability[T any](d Driver, verb string) (T, error) {
	c, ok := d.(T)
	if !ok {
		return c, fmt.Errorf("stack %s: %w by the %s orchestrator", verb, ErrUnsupported, d.Name())
	}
	return c, nil
}

// RunOptions describe a one-off container, with `stack run`'s meaning.
type RunOptions struct {
	Service string
	// Command replaces the service's command when not empty.
	Command []string
	// Entrypoint replaces the service's entrypoint when not nil.
	Entrypoint []string
	// Env adds or replaces KEY=VALUE variables (after injection).
	Env []string
	// Remove deletes the container once it exits.
	Remove bool
	// Interactive attaches Stdin to the container's standard input.
	Interactive bool
	// ServicePorts publishes the service's ports; by default a one-off
	// container publishes none, so it cannot clash with the service.
	ServicePorts bool
	// Publish are the ports to publish instead (`-p`, as docker run takes
	// them); never with ServicePorts.
	Publish []types.ServicePortConfig
	// Volumes are mounted besides the service's (`-v`: a bind or a named
	// volume, as compose run parses them; a bind's source is absolute).
	Volumes []types.ServiceVolumeConfig
	// Detach starts the one-off and returns without attaching: Run returns
	// 0 once it started, and calls Detached with what names it: the
	// container's ID on an engine (as `docker compose run -d` prints it),
	// the Job's name on Kubernetes.
	Detach   bool
	Detached func(ref string)
	// Name replaces the generated name of the one-off (its container, or
	// its Job).
	Name string
	// User and WorkingDir replace the service's.
	User, WorkingDir string
	// Labels are added to the one-off's (stack's own labels win).
	Labels map[string]string
	// UseAliases gives the one-off the service's network aliases; without
	// it a one-off gets none, so it receives no request meant for the
	// service.
	UseAliases bool
	// CapAdd and CapDrop add and drop Linux capabilities, as compose run's
	// --cap-add and --cap-drop.
	CapAdd, CapDrop []string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// RunChecker is a Runner that cannot honour every RunOptions: CheckRun
// names the first flag it refuses, before anything changes (deploy.Run asks
// it before converging the dependencies).
type RunChecker interface {
	CheckRun(o RunOptions) error
}

// ExecOptions describe a command run in a service's running container, with
// `stack exec`'s meaning.
type ExecOptions struct {
	Service string
	// Index is the replica number; 0 means 1.
	Index      int
	Command    []string
	Env        []string
	User       string
	WorkingDir string
	Privileged bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// LogsOptions are `stack logs`' flags.
type LogsOptions struct {
	Services []string // empty: every service
	// Index is the replica number to read; 0: every replica.
	Index int
	// OneOffs name one-off containers to read as well (the names `stack
	// run -d` prints); with OneOffs and no Services, only they are read.
	OneOffs []string
	Follow  bool
	Tail    string // "all" or a number of lines
	// Since and Until bound the lines by the time the engine received them:
	// an RFC 3339 time, a Unix time, or a duration ago ("42m"), as
	// `docker logs` takes them; empty: unbounded.
	Since, Until string
	// Previous reads the lines kept from the container each replica had
	// before its current one (replaced by up, or removed by rm): the last
	// ones it wrote, Tail, Since and Until applying to them; Follow has
	// nothing to follow there.
	Previous bool
}

// LogLine is one line of a container's output.
type LogLine struct {
	Container Container
	// Stream is "stdout" or "stderr" ("stdout" for a container with a
	// terminal, whose output is one stream).
	Stream string
	// Time is when the engine received the line.
	Time time.Time
	// Text is the line without its line break.
	Text string
	// Node is the cluster node the container runs on; empty on one
	// engine.
	Node string
}

// Status is one container of a project as `stack ps` shows it.
type Status struct {
	Container
	Image string `json:"image"`
	// Ports are the published ports, "127.0.0.1:8080->80/tcp", and the
	// exposed ones that are not published, "6379/tcp".
	Ports []string `json:"ports"`
	// Started is when the running container started; zero when it does
	// not run.
	Started time.Time `json:"started,omitzero"`
	// Traffic names the gateway routes the container receives requests
	// of ("/api"); "gateway" for the gateway itself.
	Traffic []string `json:"traffic,omitempty"`
	// Node is the cluster node a task runs on, Error why it cannot run or
	// failed; both empty on one engine.
	Node  string `json:"node,omitempty"`
	Error string `json:"error,omitempty"`
}
