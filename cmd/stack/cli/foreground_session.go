package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// forceStop is what a second Ctrl-C does while a foreground up stops the
// project: kill the containers (main calls ForceStop before it exits).
var forceStop atomic.Pointer[func()]

// ForceStop runs what the verb under way does on a second interrupt, for at
// most 10 seconds; main calls it before exiting.
func ForceStop() {
	f := forceStop.Load()
	if f == nil {
		return
	}
	done := make(chan struct{})
	go func() { (*f)(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// exitEvent is an attached container that stopped, its output read.
type exitEvent struct {
	c    engine.Container
	code int
	err  error
}

// session prints the attached services' output from since on, as Compose
// does, until they have all exited; Ctrl-C or an abort flag stops the
// project's containers first. It returns the exit status Compose's flags
// give, or ctx's error after an interrupt (130).
func (o *foregroundOptions) session(cmd *cobra.Command, g *Globals, args []string, since time.Time) error {
	ctx := cmd.Context()
	bg := progress.WithSink(context.WithoutCancel(ctx), g.newRenderer())
	p, t, err := g.open(bg)
	if err != nil {
		return err
	}
	defer t.Close()
	services, err := o.attached(p, args)
	if err != nil {
		return err
	}
	rows, err := listContainers(bg, t, p, "up")
	if err != nil {
		return err
	}
	cs := selection{Services: services}.pick(p, rows)
	if len(services) == 0 {
		cs = nil
	}
	logger, waiter, err := followers(t)
	if err != nil {
		if o.asksForeground() || cmd.Flags().Changed("detach") {
			return err
		}
		fmt.Fprintf(g.Stderr, "The %s orchestrator's services keep running: follow them with stack logs -f\n", t.Driver.Name())
		return nil
	}
	pr := o.printer(g)
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, fmt.Sprintf("%s-%d", c.Service, c.Number))
	}
	fmt.Fprintf(g.Stdout, "Attaching to %s\n", strings.Join(names, ", "))
	follow, stopFollow := context.WithCancel(bg)
	defer stopFollow()
	events := make(chan exitEvent, len(cs))
	for _, c := range cs {
		go followContainer(follow, logger, waiter, p.Name, c, since, o.Timestamps, pr, events)
	}
	// A second Ctrl-C kills every running container of the project's
	// services, attached or not, as Compose's does.
	all := selection{Keep: running}.pick(p, rows)
	stop := func() error { return o.stopProject(bg, cmd, g, t, p, args, all) }
	// With --watch a rebuild replaces containers: follow the new ones.
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.ID] = true
	}
	more := func() int {
		rows, err := listContainers(bg, t, p, "up")
		if err != nil {
			return 0
		}
		n := 0
		for _, c := range (selection{Services: services, Keep: running}).pick(p, rows) {
			if !seen[c.ID] {
				seen[c.ID], n = true, n+1
				go followContainer(follow, logger, waiter, p.Name, c, time.Now().Add(-time.Minute), o.Timestamps, pr, events)
			}
		}
		return n
	}
	if o.Watch {
		// The watch reports through the renderer, as stack watch does.
		wctx, cancel := context.WithCancel(progress.WithSink(ctx, g.newRenderer()))
		defer cancel()
		go func() {
			if err := g.watch(wctx, cmd, args); err != nil && wctx.Err() == nil {
				fmt.Fprintf(g.Stderr, "stack: watch: %s\n", message(err))
			}
		}()
	} else {
		more = nil
	}
	return o.loop(ctx, g, cs, events, pr, stop, more)
}

// loop reads the containers' exits and applies Compose's cascade: with
// --abort-on-container-exit (--exit-code-from) the first exit stops every
// container, with --abort-on-container-failure the first that failed.
// more, when set (--watch), follows the containers that replaced exited
// ones, returning how many, and keeps the loop going until Ctrl-C.
func (o *foregroundOptions) loop(ctx context.Context, g *Globals, cs []engine.Container, events <-chan exitEvent, pr *syncPrinter, stop func() error, more func() int) error {
	remaining, aborting, code := len(cs), false, 0
	from := o.ExitCodeFrom
	interrupted := ctx.Done()
	for remaining > 0 || more != nil && interrupted != nil {
		select {
		case <-interrupted:
			fmt.Fprintln(g.Stderr, "Gracefully stopping... (press Ctrl+C again to force)")
			aborting, interrupted = true, nil
			if err := stop(); err != nil {
				return err
			}
		case e := <-events:
			remaining--
			if e.err != nil {
				pr.status(e.c, "could not be waited for: "+e.err.Error())
				continue
			}
			pr.status(e.c, fmt.Sprintf("exited with code %d", e.code))
			if more != nil && !aborting {
				remaining += more()
			}
			cascade := o.AbortOnExit || o.AbortOnFailure && e.code != 0
			if !aborting {
				switch {
				case o.AbortOnExit && from == "":
					from = e.c.Service
				case o.AbortOnFailure && e.code != 0:
					from = e.c.Service
				}
			}
			if e.c.Service == from && (from == o.ExitCodeFrom || !aborting) {
				code = e.code
			}
			if cascade && !aborting {
				aborting = true
				fmt.Fprintln(g.Stderr, "Aborting on container exit...")
				if err := stop(); err != nil {
					return err
				}
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case code != 0:
		return &ExitError{Code: code}
	}
	return nil
}

// followContainer prints c's output from since until its stream ends, and
// sends its exit once it has stopped and its last lines are printed.
func followContainer(ctx context.Context, l engine.Logger, w engine.Waiter, project string, c engine.Container, since time.Time, ts bool, pr *syncPrinter, events chan<- exitEvent) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		o := engine.LogsOptions{Services: []string{c.Service}, Index: c.Number, Follow: true,
			Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())}
		_ = l.Logs(ctx, project, o, pr.line)
	}()
	code := 0
	err := w.Wait(ctx, []engine.Container{c}, func(_ engine.Container, n int) { code = n })
	select {
	case <-done:
	case <-time.After(5 * time.Second): // the stream ends with the container: do not hang on one that broke
	}
	events <- exitEvent{c: c, code: code, err: err}
}

// stopProject stops the containers up converged, dependants first, as
// `stack stop` does; a second Ctrl-C meanwhile kills cs.
func (o *foregroundOptions) stopProject(ctx context.Context, cmd *cobra.Command, g *Globals, t *deploy.Target, p *manifest.Project, args []string, cs []engine.Container) (err error) {
	if k, kerr := engine.Capability[engine.Killer](t.Driver, "up"); kerr == nil {
		kill := func() { _ = k.Kill(context.WithoutCancel(ctx), cs, "SIGKILL") }
		forceStop.Store(&kill)
		defer forceStop.Store(nil)
	}
	ctx, unlock, err := g.hold(ctx, cmd, t, p.Name, args...)
	if err != nil {
		return err
	}
	defer unlock(&err)
	obs, err := t.Driver.Observe(ctx, p)
	if err != nil {
		return err
	}
	services, err := engine.SelectServices(p, args, false)
	if err != nil {
		return err
	}
	plan, err := engine.StopServices(p, nil, obs, services)
	if err != nil {
		return err
	}
	return engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{})
}

// syncPrinter is logs' printer for lines coming from several containers at
// once, with Compose's status lines ("web-1 exited with code 0").
type syncPrinter struct {
	mu sync.Mutex
	p  *logPrinter
}

func (o *foregroundOptions) printer(g *Globals) *syncPrinter {
	colour := !o.NoColor && isTerminal(g.Stdout) && !ciEnv() && os.Getenv("NO_COLOR") == ""
	return &syncPrinter{p: &logPrinter{stdout: g.Stdout, stderr: g.Stderr, colour: colour, prefix: !o.NoLogPrefix, timestamps: o.Timestamps, colours: map[string]string{}}}
}

func (s *syncPrinter) line(l engine.LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p.line(l)
}

func (s *syncPrinter) status(c engine.Container, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("%s-%d", c.Service, c.Number)
	if s.p.colour {
		if col, ok := s.p.colours[name]; ok {
			name = "\x1b[" + col + "m" + name + "\x1b[0m"
		}
	}
	fmt.Fprintf(s.p.stdout, "%s %s\n", name, text)
}

// followers are what follows the services' containers to their end; an
// error when the orchestrator has none: a Swarm's tasks exit and are
// replaced by the orchestrator.
func followers(t *deploy.Target) (engine.Logger, engine.Waiter, error) {
	logger, lerr := engine.Capability[engine.Logger](t.Driver, "up")
	waiter, werr := engine.Capability[engine.Waiter](t.Driver, "up")
	if err := errors.Join(lerr, werr); err != nil {
		return nil, nil, fmt.Errorf("up in the foreground (%w): the %s orchestrator restarts what exits; follow the services with stack logs -f", err, t.Driver.Name())
	}
	return logger, waiter, nil
}

// followable refuses, before up changes anything, a foreground asked for
// (by a flag) that the orchestrator cannot give, and watch rules it cannot
// apply.
func (o *foregroundOptions) followable(cmd *cobra.Command, g *Globals, args []string) error {
	if !o.foreground(cmd, g) || !(o.asksForeground() || cmd.Flags().Changed("detach")) {
		return nil
	}
	if o.Watch {
		if err := g.watchable(cmd.Context(), args); err != nil {
			return err
		}
	}
	_, t, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer t.Close()
	_, _, err = followers(t)
	return err
}
