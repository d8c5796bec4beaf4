package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/progress"
)

// The verbs that change a project (up, create, down, run, release,
// promote, and stop, start, restart and rm of its containers) hold its
// deploy lock, where it deploys, while they do: two runs against one
// engine take turns, wherever they run. `stack lock` shows and breaks it.
// The protocol is package deploy's; a verb only says who it is.

// defaultLockTimeout is how long a verb waits by default while another run
// holds the lock: a deploy's usual length, a few minutes.
const defaultLockTimeout = 5 * time.Minute

// lockFlag adds --lock-timeout to a verb that holds the deploy lock.
func lockFlag(cmd *cobra.Command) {
	cmd.Flags().Duration("lock-timeout", defaultLockTimeout,
		fmt.Sprintf("how long to wait while another run holds the project's deploy lock, then exit %d; 0: do not wait", exitLocked))
}

// lockOptions says who cmd is (args: what the waiting runs are told it
// works on) and how long it waits for the lock.
func (g *Globals) lockOptions(cmd *cobra.Command, args ...string) (deploy.LockOptions, error) {
	wait, err := cmd.Flags().GetDuration("lock-timeout")
	if err != nil {
		return deploy.LockOptions{}, err
	}
	command := append([]string{cmd.CommandPath()}, args...)
	if g.Env != "" {
		command = append(command, "--env", g.Env)
	}
	return deploy.LockOptions{Command: strings.Join(command, " "), Wait: wait}, nil
}

func init() { register(newLockCommand) }

func newLockCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Show or remove the project's deploy lock",
		Long: "up, create, down, run, release, promote, stop, start, restart and rm hold the project's deploy\n" +
			"lock, where it deploys, while they work; another run waits up to its --lock-timeout, then exits " + fmt.Sprint(exitLocked) + ".\nA run that " +
			"dies loses the lock by itself: its connection to the engine closes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLockStatusCommand(g), newLockReleaseCommand(g))
	return cmd
}

func newLockStatusCommand(g *Globals) *cobra.Command {
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
			return g.withLocks(cmd, func(ctx context.Context, l lock.Locks, project string) error {
				h, err := l.Status(ctx, project)
				if err != nil {
					return err
				}
				return g.printHolder(format, project, h)
			})
		},
	}
	status.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return status
}

func (g *Globals) printHolder(format, project string, h *lock.Holder) error {
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
		_, err := fmt.Fprintf(g.Stdout, "%s: not locked\n", project)
		return err
	}
	_, err := fmt.Fprintf(g.Stdout, "%s: held by %s\n", project, h)
	return err
}

func newLockReleaseCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "release",
		Short: "Remove the project's deploy lock, whoever holds it",
		Long: "Remove the deploy lock and say whose it was. A run still holding it loses it and stops\n" +
			"within seconds; use it for a lock whose run you know is gone.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withLocks(cmd, func(ctx context.Context, l lock.Locks, project string) error {
				h, err := l.Break(ctx, project)
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
}

// withLocks loads the project and runs f on where its locks are kept.
func (g *Globals) withLocks(cmd *cobra.Command, f func(context.Context, lock.Locks, string) error) error {
	ctx := progress.WithSink(cmd.Context(), g.newRenderer())
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	l, err := t.Locks("lock")
	if err != nil {
		return err
	}
	return f(ctx, l, p.Name)
}

// hold takes project's deploy lock on t for cmd (args: what the waiting
// runs are told it works on): the verbs that change registries, not the
// engine (release, promote), and so have no deploy protocol of their own.
func (g *Globals) hold(ctx context.Context, cmd *cobra.Command, t *deploy.Target, project string, args ...string) (context.Context, func(*error), error) {
	o, err := g.lockOptions(cmd, args...)
	if err != nil {
		return nil, nil, err
	}
	return t.Hold(ctx, project, o)
}
