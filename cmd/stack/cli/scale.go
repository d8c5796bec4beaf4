package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newScaleCommand) }

func newScaleCommand(g *Globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "scale SERVICE=REPLICAS...",
		Short: "Set the number of replicas of services, changing nothing else",
		Long: "Run REPLICAS containers of each SERVICE: the missing ones are created (with the\n" +
			"manifest's configuration), the highest-numbered ones beyond REPLICAS removed. The\n" +
			"services' other containers, their dependencies and every other service stay as they are;\n" +
			"`stack up` later converges to the manifest's replicas again.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			scales, err := parseScales(args)
			if err != nil {
				return err
			}
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			services, err := applyScales(p, scales)
			if err != nil {
				return err
			}
			// Only the replicas change: no dependency is converged, no
			// existing container recreated, nothing built.
			diff := engine.DiffOptions{Services: services, NoDeps: true, NoRecreate: true}
			return g.converge(ctx, cmd, t, p, deploy.Options{Diff: diff}, engine.ApplyOptions{Parallel: engine.DefaultParallel, Timeout: timeout})
		},
	}
	lockFlag(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long a new replica may take to be running, healthy or completed")
	// Compose's flag: stack's scale never touches the dependencies.
	cmd.Flags().Bool("no-deps", true, "accepted for Compose's sake: scale never converges the dependencies")
	return cmd
}

// converge runs up's protocol on p with o, under the deploy lock when it
// changes something.
func (g *Globals) converge(ctx context.Context, cmd *cobra.Command, t *deploy.Target, p *manifest.Project, o deploy.Options, a engine.ApplyOptions) error {
	lock, err := g.lockOptions(cmd, o.Diff.Services...)
	if err != nil {
		return err
	}
	return t.Up(ctx, p, deploy.UpOptions{Options: o, Apply: a, Lock: lock})
}

// parseScales reads SERVICE=REPLICAS arguments (scale's, up --scale's).
func parseScales(args []string) (map[string]int, error) {
	out := make(map[string]int, len(args))
	for _, a := range args {
		name, n, ok := strings.Cut(a, "=")
		replicas, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || replicas < 0 {
			return nil, fmt.Errorf("scale %q: write SERVICE=REPLICAS, REPLICAS a number of 0 or more", a)
		}
		out[name] = replicas
	}
	return out, nil
}

// applyScales sets the replicas of services in p's model (as Compose's
// --scale does) and returns their names.
func applyScales(p *manifest.Project, scales map[string]int) ([]string, error) {
	names := make([]string, 0, len(scales))
	for name, n := range scales {
		if err := knownService(p, name); err != nil {
			return nil, fmt.Errorf("scale: %w", err)
		}
		s := p.Project.Services[name]
		s.SetScale(n)
		p.Project.Services[name] = s
		names = append(names, name)
	}
	return names, nil
}
