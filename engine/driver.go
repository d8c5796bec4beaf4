package engine

import (
	"context"
	"time"

	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// Driver is one kind of engine (a Docker engine, a Swarm cluster): it reads
// what the engine holds, checks and describes the desired state in its own
// terms, turns a Plan into the engine calls that carry it out, and makes
// them. Diff decides what changes; the driver decides only how its engine
// does it, before anything is called. The verbs beyond converging (run,
// exec, logs, ps, ...) are the optional interfaces of capability.go.
type Driver interface {
	// Name is the orchestrator's name for messages: "docker", "swarm".
	Name() string
	// Observe reads what the engine holds for p's project, once: the
	// resources carrying its label, and those of its names it did not make.
	Observe(ctx context.Context, p *manifest.Project) (*Observed, error)
	// Check maps the named services of p (all when none) to the engine's
	// specs without changing anything: the error names the file, service
	// and field the engine would refuse; the warnings, by service, the
	// fields it cannot honour.
	Check(ctx context.Context, p *manifest.Project, services []string) (Warnings, error)
	// Facts answers what the plan needs of each service's image: the
	// address questions of envinject, and whether it declares a
	// HEALTHCHECK (what "ready" means).
	Facts(ctx context.Context, p *manifest.Project) (Facts, error)
	// Operations turns plan into the engine calls that carry it out. Pure:
	// it reads only the plan (its Desired and Observed included).
	Operations(plan *Plan) (*Graph, error)
	// Begin opens a run of plan's operations.
	Begin(ctx context.Context, plan *Plan, o ApplyOptions) (Executor, error)
}

// Hasher is a Driver whose engine objects are made from more than a compose
// service and its image: a Swarm service spec also carries the contents of
// the secrets and configs it mounts (in their names), whether the service
// runs as a job, and the names of its networks and volumes, and a change to
// any of them must update the service. Such a driver hashes each service's
// object itself, after address injection (Images.Hash), and Diff compares
// that hash with the observed one instead of ConfigHash; its parts name
// compose fields, for the plan's reason.
type Hasher interface {
	// ConfigHashes returns images with each selected service's Hash set.
	ConfigHashes(p *manifest.Project, images Images) (Images, error)
}

// Executor makes the calls of one run.
type Executor interface {
	// Execute makes op's call and returns once it is done (a Wait once its
	// condition holds or cannot any more). It reports nothing itself: what
	// it learns on the way (how a wait is getting on, what the engine
	// warned of) it tells notes, and the walker reports it under op's
	// action.
	Execute(ctx context.Context, op *Op, notes Notes) error
	// Close releases what the run holds (an event stream).
	Close() error
}

// Notes take what an executor learns while it makes one call.
type Notes interface {
	// Status says how the call is getting on: "2/3 tasks running".
	Status(text string)
	// Warn passes on a warning: one the engine answered with, or
	// something the call could not do.
	Warn(text string)
}

// Warnings are the fields an engine cannot honour, by service.
type Warnings map[string][]string

// Facts are what the engine knows of the services' images.
type Facts interface {
	envinject.Facts
	// ImageHealthcheck reports whether the image of service declares a
	// HEALTHCHECK; known is false when the image is not on the engine yet.
	ImageHealthcheck(service string) (has, known bool)
}

// ApplyOptions steer Apply.
type ApplyOptions struct {
	// Parallel bounds the operations under way at once (waits do not
	// count); 0 or less: DefaultParallel.
	Parallel int
	// Timeout bounds each wait for a service to become ready (started,
	// healthy, completed); 0: no bound beyond ctx.
	Timeout time.Duration
}

// DefaultParallel is the default bound on concurrent operations.
const DefaultParallel = 16

// Apply carries out plan through d: the plan's operations (plan.Graph, made
// by d.Operations when nil) walked in dependency order. A plan without
// operations makes no driver call at all.
func Apply(ctx context.Context, d Driver, plan *Plan, o ApplyOptions) error {
	g := plan.Graph
	if g == nil {
		var err error
		if g, err = d.Operations(plan); err != nil {
			return err
		}
		plan.Graph = g
	}
	if len(g.Ops) == 0 {
		for _, a := range plan.Actions {
			ReportUnchanged(ctx, a)
		}
		return nil
	}
	x, err := d.Begin(ctx, plan, o)
	if err != nil {
		return err
	}
	err = Walk(ctx, plan, g, x, o.Parallel)
	if cerr := x.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// ReportUnchanged reports an action that changes nothing: done, or a
// warning for an orphan, a stale network or volume, or one adopted.
func ReportUnchanged(ctx context.Context, a *Action) {
	if a.Orphan || a.Stale || a.Kind == Adopt {
		progress.Report(ctx, a.Resource, string(a.Kind), progress.Warning, a.Reason, nil)
		return
	}
	progress.Report(ctx, a.Resource, string(a.Kind), progress.Done, a.Reason, nil)
}
