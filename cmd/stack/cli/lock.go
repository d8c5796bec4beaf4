package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// The verbs that change a project (up, create, down, run, release,
// promote, and stop, start, restart and rm of its containers) hold its
// deploy lock, on the engine it deploys to, while they do: two runs
// against one engine take turns, wherever they run. `stack lock` shows and
// breaks it.

// defaultLockTimeout is how long a verb waits by default while another run
// holds the lock: a deploy's usual length, a few minutes.
const defaultLockTimeout = 5 * time.Minute

// lockFlag adds --lock-timeout to a verb that holds the deploy lock.
func lockFlag(cmd *cobra.Command) {
	cmd.Flags().Duration("lock-timeout", defaultLockTimeout,
		fmt.Sprintf("how long to wait while another run holds the project's deploy lock, then exit %d; 0: do not wait", exitLocked))
}

// hold takes project's deploy lock on t's engine for cmd (args: what the
// waiting runs are told it works on), and returns the context the verb
// works under, cancelled if the lock is lost, and unlock, which releases the
// lock and, when it was lost, says so in *err. Call unlock on every path
// (defer); a second call does nothing.
func (g *Globals) hold(ctx context.Context, cmd *cobra.Command, t *deploy.Target, project string, args ...string) (context.Context, func(err *error), error) {
	locker, err := engine.Capability[engine.Locker](t.Driver, cmd.Name())
	if err != nil {
		return nil, nil, err
	}
	wait, err := cmd.Flags().GetDuration("lock-timeout")
	if err != nil {
		return nil, nil, err
	}
	command := append([]string{cmd.CommandPath()}, args...)
	if g.Env != "" {
		command = append(command, "--env", g.Env)
	}
	l, err := lock.Acquire(ctx, locker.LockClient(), project, lock.Options{Holder: lock.Me(strings.Join(command, " ")), Wait: wait})
	if errors.Is(err, lock.ErrHeld) {
		return nil, nil, fmt.Errorf("%w: try again later or with a longer --lock-timeout; `stack lock status` shows the holder, `stack lock release` removes the lock of a run that is gone", err)
	}
	if err != nil {
		return nil, nil, err
	}
	released := false
	return l.Context(), func(errp *error) {
		if released {
			return
		}
		released = true
		rerr := l.Release(ctx)
		switch lost := l.Lost(); {
		case lost != nil && *errp != nil:
			*errp = fmt.Errorf("%w; the run stopped: %w", lost, *errp)
		case lost != nil:
			*errp = lost
		case *errp == nil:
			*errp = rerr
		}
	}, nil
}

// planUnderLock plans an up of p (args: what the waiting runs are told it
// works on) and takes the deploy lock only when it must. A plan that changes nothing, made while no run held the
// lock before and after it, is carried out without it: every change to a
// project is made under its lock, so no run changed it meanwhile. That
// spares a no-op up (or run) the lock's cost, an image import and a container create
// and remove, as much again as the rest of the no-op. A plan that changes
// something stands if the engine, observed again under the lock, is as the
// plan saw it; else it is made again, under the lock. It returns the
// context to carry the plan out under, and unlock (see hold).
func (g *Globals) planUnderLock(ctx context.Context, cmd *cobra.Command, t *deploy.Target, p *manifest.Project, args []string, o deploy.Options) (context.Context, *engine.Plan, func(*error), error) {
	locker, err := engine.Capability[engine.Locker](t.Driver, cmd.Name())
	if err != nil {
		return nil, nil, nil, err
	}
	var plan *engine.Plan
	free, err := lock.Free(ctx, locker.LockClient(), p.Name)
	if err != nil {
		return nil, nil, nil, err
	}
	if free {
		if plan, err = t.Plan(ctx, p, o); err != nil {
			return nil, nil, nil, err
		}
		if plan.Changes() == 0 {
			if free, err = lock.Free(ctx, locker.LockClient(), p.Name); err != nil || free {
				return ctx, plan, func(*error) {}, err
			}
		}
	}
	ctx, unlock, err := g.hold(ctx, cmd, t, p.Name, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	if plan != nil {
		obs, err := t.Driver.Observe(ctx, p)
		if err != nil {
			unlock(&err)
			return nil, nil, nil, err
		}
		if reflect.DeepEqual(obs, plan.Observed) {
			return ctx, plan, unlock, nil
		}
	}
	if plan, err = t.Plan(ctx, p, o); err != nil {
		unlock(&err)
		return nil, nil, nil, err
	}
	return ctx, plan, unlock, nil
}

func init() { register(newLockCommand) }

func newLockCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Show or remove the project's deploy lock",
		Long: "up, create, down, run, release, promote, stop, start, restart and rm hold the project's deploy\n" +
			"lock, on its engine, while they work; another run waits up to its --lock-timeout, then exits " + fmt.Sprint(exitLocked) + ".\nA run that " +
			"dies loses the lock by itself: its connection to the engine closes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var format string
	status := &cobra.Command{
		Use:   "status",
		Short: "Show who holds the project's deploy lock",
		Long: "Print who holds the deploy lock (user, host, pid, command, since), or that nobody does.\n" +
			"A lock whose run is gone is cleared, as a waiting run would.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: use text or json", format)
			}
			return g.withLocks(cmd, func(ctx context.Context, c lock.Client, project string) error {
				h, err := lock.Status(ctx, c, project)
				if err != nil {
					return err
				}
				if format == "json" {
					b, err := json.Marshal(struct {
						Project string       `json:"project"`
						Held    bool         `json:"held"`
						Holder  *lock.Holder `json:"holder,omitempty"`
					}{project, h != nil, h})
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
					return err
				}
				if h == nil {
					_, err = fmt.Fprintf(g.Stdout, "%s: not locked\n", project)
					return err
				}
				_, err = fmt.Fprintf(g.Stdout, "%s: held by %s\n", project, h)
				return err
			})
		},
	}
	status.Flags().StringVar(&format, "format", "text", "output format: text or json")
	release := &cobra.Command{
		Use:   "release",
		Short: "Remove the project's deploy lock, whoever holds it",
		Long: "Remove the deploy lock and say whose it was. A run still holding it loses it and stops\n" +
			"within seconds; use it for a lock whose run you know is gone.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withLocks(cmd, func(ctx context.Context, c lock.Client, project string) error {
				h, err := lock.Break(ctx, c, project)
				if err != nil {
					return err
				}
				if h == nil {
					_, err = fmt.Fprintf(g.Stdout, "%s: not locked; nothing to release\n", project)
					return err
				}
				_, err = fmt.Fprintf(g.Stdout, "%s: removed the deploy lock held by %s\n", project, h)
				return err
			})
		},
	}
	cmd.AddCommand(status, release)
	return cmd
}

// withLocks loads the project and runs f on the engine its locks live on.
func (g *Globals) withLocks(cmd *cobra.Command, f func(context.Context, lock.Client, string) error) error {
	ctx := progress.WithSink(cmd.Context(), g.newRenderer())
	p, t, err := g.open(ctx, "")
	if err != nil {
		return err
	}
	defer t.Close()
	locker, err := engine.Capability[engine.Locker](t.Driver, "lock")
	if err != nil {
		return err
	}
	return f(ctx, locker.LockClient(), p.Name)
}
