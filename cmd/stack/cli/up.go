package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/progress"
)

type upOptions struct {
	engine.DiffOptions
	Parallel int
	Timeout  time.Duration
	Build    bool
	NoBuild  bool
	Lock     string
	Pull     string
	Atomic   bool
	// ForcePhase runs the release phase even when nothing changes.
	ForcePhase bool
	// NoVerify leaves out the environment's checks after the deploy.
	NoVerify bool
	fg       foregroundOptions
}

func init() { register(newUpCommand) }

func newUpCommand(g *Globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up [SERVICE...]",
		Short: "Converge the engine to the manifest, in dependency order",
		Long: "Create the project's networks and named volumes, then create, replace or start the\n" +
			"containers that differ from the manifest, dependencies first, independent services in\n" +
			"parallel; return once every service is running, healthy where it has a healthcheck, and\n" +
			"one-shot dependencies have completed. Nothing changed: nothing is done.",
		RunE: o.fg.wrap(g, &o, func(cmd *cobra.Command, args []string) error {
			o.Services = args
			o.DiffOptions.Atomic = o.Atomic
			return g.up(cmd, args, deploy.UpOptions{Release: o.Lock,
				Apply: engine.ApplyOptions{Parallel: o.Parallel, Timeout: o.Timeout}}, &o)
		}),
	}
	lockFlag(cmd)
	f := cmd.Flags()
	f.IntVar(&o.Parallel, "parallel", engine.DefaultParallel, "engine operations under way at once")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long a service may take to be running, healthy or completed")
	o.flags(cmd)
	f.BoolVar(&o.NoDeps, "no-deps", false, "do not start the dependencies of the named services")
	f.StringVar(&o.Lock, "lock", "", "deploy exactly the images of a release lock (a path, or current for the --env's current lock): nothing is built")
	foregroundFlags(cmd, &o.fg)
	f.BoolVar(&o.ForcePhase, "force-release-phase", false, "run x-stack.release's before and after steps even when nothing changes")
	f.BoolVar(&o.NoVerify, "no-verify", false, "do not run the --env's verify checks after the deploy (stack verify runs them)")
	f.BoolVar(&o.Atomic, "atomic", false, "all or nothing: when any service fails, every service this run replaced returns to what ran before (always so with --lock)")
	// A lock deploys a release's images as they are: nothing is built.
	cmd.MarkFlagsMutuallyExclusive("lock", "build")
	return cmd
}

// up runs up's protocol (create's, with o.Create) for cmd: the options
// are o's plan, the lock cmd's.
func (g *Globals) up(cmd *cobra.Command, args []string, uo deploy.UpOptions, o *upOptions) error {
	ctx := progress.WithSink(cmd.Context(), g.newRenderer())
	p, t, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	if uo.Lock, err = g.lockOptions(cmd, args...); err != nil {
		return err
	}
	uo.Options = deploy.Options{Diff: o.DiffOptions, Images: o.images()}
	uo.Phase = deploy.PhaseOptions{Force: o.ForcePhase, Out: g.Stdout, NoVerify: o.NoVerify}
	return t.Up(ctx, p, uo)
}

// flags adds the flags create shares with up: how containers are replaced
// and how images are built and pulled.
func (o *upOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.ForceRecreate, "force-recreate", false, "recreate containers even if their configuration is unchanged")
	f.BoolVar(&o.NoRecreate, "no-recreate", false, "keep existing containers even if their configuration changed")
	f.BoolVar(&o.RemoveOrphans, "remove-orphans", false, "remove containers of services no longer in the manifest")
	f.StringVar(&o.Pull, "pull", "", "pull images: always, missing or never (default: each service's pull_policy)")
	f.BoolVar(&o.Build, "build", false, "build images even when their inputs did not change")
	f.BoolVar(&o.NoBuild, "no-build", false, "never build: use the images the engine has")
	cmd.MarkFlagsMutuallyExclusive("force-recreate", "no-recreate")
	cmd.MarkFlagsMutuallyExclusive("build", "no-build")
}

// images is what --build, --no-build and --pull ask of the images.
func (o *upOptions) images() image.EnsureOptions {
	img := image.EnsureOptions{Pull: o.Pull}
	switch {
	case o.Build:
		img.Build = image.BuildAlways
	case o.NoBuild:
		img.Build = image.BuildNever
	}
	return img
}
