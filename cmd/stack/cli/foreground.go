package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Docker Compose's `up` without -d stays in the foreground: it converges,
// then prints the services' output until they exit or Ctrl-C stops them.
// stack's up does the same on a terminal; with a stdin that is not one (CI,
// scripts) it returns once the services are ready, as it always has, unless
// -d=false or a flag that only makes sense in the foreground asks otherwise.

// foregroundOptions are up's flags of the foreground run and Compose's up
// flags stack accepts.
type foregroundOptions struct {
	Detach         bool
	AbortOnExit    bool
	AbortOnFailure bool
	ExitCodeFrom   string
	Attach         []string
	NoAttach       []string
	AttachDeps     bool
	NoLogPrefix    bool
	NoColor        bool
	Timestamps     bool
	Wait           bool
	WaitTimeout    int
	NoStart        bool
	RenewAnon      bool
	RecreateDeps   bool
	DryRun         bool
	Scale          []string
	Watch          bool
}

// foregroundFlags adds up's foreground flags, -d among them, and the
// Compose flags stack accepts.
func foregroundFlags(cmd *cobra.Command, o *foregroundOptions) {
	f := cmd.Flags()
	f.BoolVarP(&o.Detach, "detach", "d", false, "return once the services are ready (the default when stdin is not a terminal); without it, print their output until they exit or Ctrl-C stops them")
	f.BoolVar(&o.AbortOnExit, "abort-on-container-exit", false, "stop every container when one of the attached ones exits")
	f.BoolVar(&o.AbortOnFailure, "abort-on-container-failure", false, "stop every container when one of the attached ones exits with a status other than 0")
	f.StringVar(&o.ExitCodeFrom, "exit-code-from", "", "exit with this service's container's status (implies --abort-on-container-exit)")
	f.StringSliceVar(&o.Attach, "attach", nil, "print the output of these services only")
	f.StringSliceVar(&o.NoAttach, "no-attach", nil, "do not print the output of these services")
	f.BoolVar(&o.AttachDeps, "attach-dependencies", false, "print the output of the named services' dependencies too")
	f.BoolVar(&o.NoLogPrefix, "no-log-prefix", false, "do not prefix the output lines with their container")
	f.BoolVar(&o.NoColor, "no-color", false, "do not colour the prefixes")
	f.BoolVar(&o.Timestamps, "timestamps", false, "show the time of each output line")
	f.BoolVar(&o.Wait, "wait", false, "accepted for Compose's sake: up always waits for the services to be ready (implies -d)")
	f.IntVar(&o.WaitTimeout, "wait-timeout", 0, "seconds the services may take to be ready (as --timeout)")
	f.BoolVar(&o.NoStart, "no-start", false, "create the containers without starting them (as stack create)")
	f.BoolVarP(&o.RenewAnon, "renew-anon-volumes", "V", false, "give recreated containers new anonymous volumes instead of those of the containers they replace (which stay on the engine)")
	f.BoolVar(&o.RecreateDeps, "always-recreate-deps", false, "recreate the containers of the dependencies of the named services too")
	f.Bool("quiet-pull", false, "accepted for Compose's sake: pulls print one line per image")
	f.Bool("quiet-build", false, "accepted for Compose's sake: builds print one line per image")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what up would change (as stack plan) and change nothing")
	f.BoolP("yes", "y", false, "accepted for Compose's sake: up asks no questions")
	f.StringArrayVar(&o.Scale, "scale", nil, "run this number of replicas of a service: SERVICE=REPLICAS (repeatable)")
	f.BoolVarP(&o.Watch, "watch", "w", false, "after converging, watch the files of the services' develop.watch and apply their changes (stack watch)")
	cmd.MarkFlagsMutuallyExclusive("abort-on-container-exit", "abort-on-container-failure")
	cmd.MarkFlagsMutuallyExclusive("attach", "no-attach")
}

// foreground reports whether up stays in the foreground after converging.
func (o *foregroundOptions) foreground(cmd *cobra.Command, g *Globals) bool {
	switch {
	case o.Detach || o.Wait || o.DryRun || o.NoStart:
		return false
	case cmd.Flags().Changed("detach"), o.asksForeground():
		return true
	}
	f, ok := g.Stdin.(*os.File)
	return ok && termIsTerminal(int(f.Fd()))
}

// asksForeground: a flag that only means something in the foreground.
func (o *foregroundOptions) asksForeground() bool {
	return o.AbortOnExit || o.AbortOnFailure || o.ExitCodeFrom != "" || len(o.Attach) > 0 || o.AttachDeps || o.Watch
}

// wrap returns up's RunE: deploy (up's own, which holds the deploy lock
// while it converges) between the checks and modes of these flags and the
// foreground run, which holds no lock.
func (o *foregroundOptions) wrap(g *Globals, up *upOptions, deployRun func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd, up); err != nil {
			return err
		}
		if len(o.Scale) > 0 {
			scales, err := parseScales(o.Scale)
			if err != nil {
				return err
			}
			g.scale = scales
		}
		switch {
		case o.DryRun:
			return o.dryRun(cmd, g, up, args)
		case o.NoStart:
			return o.createOnly(cmd, g, up, args)
		}
		if err := o.followable(cmd, g, args); err != nil {
			return err
		}
		started := time.Now()
		if err := deployRun(cmd, args); err != nil || !o.foreground(cmd, g) {
			return err
		}
		return o.session(cmd, g, args, started)
	}
}

// check refuses what Compose refuses, and turns the flags that are other
// flags of stack's into those.
func (o *foregroundOptions) check(cmd *cobra.Command, up *upOptions) error {
	if o.Detach && o.asksForeground() {
		return errors.New("-d cannot go with --abort-on-container-exit, --abort-on-container-failure, --exit-code-from, --attach, --attach-dependencies or --watch: they act in the foreground")
	}
	if o.ExitCodeFrom != "" {
		o.AbortOnExit = true
	}
	if o.RecreateDeps && up.NoRecreate {
		return errors.New("--always-recreate-deps cannot go with --no-recreate")
	}
	up.RecreateDeps, up.RenewAnonymous = o.RecreateDeps, o.RenewAnon
	if o.WaitTimeout > 0 {
		up.Timeout = time.Duration(o.WaitTimeout) * time.Second
	}
	return nil
}

// dryRun prints the plan of up, as `stack plan` prints it, and changes
// nothing.
func (o *foregroundOptions) dryRun(cmd *cobra.Command, g *Globals, up *upOptions, args []string) error {
	up.Services = args
	return g.up(cmd, args, deploy.UpOptions{Release: up.Lock, DryRun: true,
		Planned: func(plan *engine.Plan) { fmt.Fprint(g.Stdout, plan.Text()) }}, up)
}

// createOnly is up --no-start: stack create.
func (o *foregroundOptions) createOnly(cmd *cobra.Command, g *Globals, up *upOptions, args []string) error {
	up.Services = args
	return g.up(cmd, args, deploy.UpOptions{Release: up.Lock, Create: true,
		Apply: engine.ApplyOptions{Parallel: up.Parallel, Timeout: up.Timeout}}, up)
}

// attached are the services whose output the foreground prints: --attach's,
// else the named ones (and their dependencies with --attach-dependencies),
// else every one; less --no-attach's.
func (o *foregroundOptions) attached(p *manifest.Project, args []string) ([]string, error) {
	for _, s := range slices.Concat(o.Attach, o.NoAttach, []string{o.ExitCodeFrom}) {
		if s == "" {
			continue
		}
		if err := knownService(p, s); err != nil {
			return nil, err
		}
	}
	var out []string
	switch {
	case len(o.Attach) > 0:
		out = o.Attach
	case len(args) > 0 && o.AttachDeps:
		var err error
		if out, err = engine.SelectServices(p, args, false); err != nil {
			return nil, err
		}
	case len(args) > 0:
		out = args
	default:
		out = p.ServiceNames()
	}
	return slices.DeleteFunc(slices.Clone(out), func(s string) bool { return slices.Contains(o.NoAttach, s) }), nil
}
