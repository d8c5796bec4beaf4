package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
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
		RunE: o.fg.wrap(g, &o, func(cmd *cobra.Command, args []string) (err error) {
			o.Services = args
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			// A release deploys whole or not at all.
			o.DiffOptions.Atomic = o.Atomic || o.Lock != ""
			p, t, err := g.open(ctx, o.Lock)
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, plan, unlock, err := g.planUnderLock(ctx, cmd, t, p, args, deploy.Options{Diff: o.DiffOptions, Images: o.images()})
			if err != nil {
				return err
			}
			defer unlock(&err)
			started := time.Now()
			err = engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{Parallel: o.Parallel, Timeout: o.Timeout})
			if o.Lock != "" && p.Env != nil {
				// stack releases says which attempt failed.
				path, lerr := registry.LockFor(p, o.Lock)
				if lerr == nil {
					lerr = registry.Store{Dir: registry.DefaultStoreDir(p.WorkingDir)}.RecordDeploy(p.Env.Name, path, started, err)
				}
				if lerr != nil {
					progress.Report(ctx, "release:"+p.Env.Name, "record", progress.Warning, lerr.Error(), nil)
				}
			}
			return err
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
	f.BoolVar(&o.Atomic, "atomic", false, "all or nothing: when any service fails, every service this run replaced returns to what ran before (always so with --lock)")
	// A lock deploys a release's images as they are: nothing is built.
	cmd.MarkFlagsMutuallyExclusive("lock", "build")
	return cmd
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
