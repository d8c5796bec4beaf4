package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
	"github.com/stack-deploy/stack/release"
)

func init() { register(newVerifyCommand) }

func newVerifyCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify --env ENV",
		Short: "Run an environment's checks against what it runs, and record the result with its release",
		Long: "Run the checks of x-stack.environments.ENV.verify, in order: HTTP checks ask their URL until it\n" +
			"answers the status they want or their within (default 10s) has passed; command checks run\n" +
			"in a one-off container of their service, with the release's image, the environment's\n" +
			"configuration and the injected addresses, and pass when it exits 0. Prints each check's\n" +
			"result, records the outcome (verified or failed, when, by whom, the failing check's output)\n" +
			"with the release the environment runs, in .stack/releases and in its registry, and exits 1\n" +
			"naming the failing check. `stack promote` promotes only verified releases.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			if p.Env == nil {
				return fmt.Errorf("stack verify: choose the environment with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
			}
			checks := p.Checks()
			if len(checks) == 0 {
				fmt.Fprintf(g.Stderr, "stack verify: environment %s has no checks: add them under x-stack.environments.%s.verify\n", p.Env.Name, p.Env.Name)
				return nil
			}
			h, _, running, err := g.releasesOf(ctx, p)
			if err != nil {
				return err
			}
			res, err := g.runChecks(ctx, p, running, checks)
			if err != nil {
				return err
			}
			printChecks(g, res)
			if running == nil {
				progress.Report(ctx, "release:"+p.Env.Name, "verify", progress.Warning,
					"not recorded: the engine runs no release of "+p.Env.Name+" (deploy one with stack up --env "+p.Env.Name+" --lock ...)", nil)
			} else if err := h.RecordVerification(ctx, deploy.Verification(running, res)); err != nil {
				return err
			}
			if err := res.Err(); err != nil {
				return fmt.Errorf("verifying %s: %w", p.Env.Name, err)
			}
			what := "what runs"
			if running != nil {
				what = "release " + running.Lock.Tag
			}
			fmt.Fprintf(g.Stdout, "%s verified on %s\n", what, p.Env.Name)
			return nil
		},
	}
}

// runChecks runs checks against p's environment; command checks run with
// the images of the running release (when one runs) and the addresses
// injected, as `stack run` runs a one-off.
func (g *Globals) runChecks(ctx context.Context, p *manifest.Project, running *registry.Release, checks []manifest.Check) (release.Result, error) {
	var services []string
	for _, c := range checks {
		if c.Service != "" {
			services = append(services, c.Service)
		}
	}
	if len(services) == 0 {
		return release.Verify(ctx, checks, nil, p)
	}
	t, err := g.target(p)
	if err != nil {
		return release.Result{}, err
	}
	defer t.Close()
	runner, err := engine.Capability[engine.Runner](t.Driver, "verify")
	if err != nil {
		return release.Result{}, err
	}
	if running != nil {
		registry.PinImages(p, running.Lock)
	}
	if _, err := t.Prepare(ctx, p, services, image.EnsureOptions{Build: image.BuildNever}); err != nil {
		return release.Result{}, err
	}
	return release.Verify(ctx, checks, runner, p)
}

// printChecks prints one line per check, and a failed check's output below it.
func printChecks(g *Globals, res release.Result) {
	for _, c := range res.Checks {
		word := "PASS"
		if !c.Passed {
			word = "FAIL"
		}
		tries := "1 attempt"
		if c.Attempts != 1 {
			tries = fmt.Sprintf("%d attempts", c.Attempts)
		}
		fmt.Fprintf(g.Stdout, "%s  %s  (%s, %s)\n", word, c.Name, tries, c.Took.Round(time.Millisecond))
		if !c.Passed {
			for _, line := range strings.Split(strings.TrimSpace(c.Output), "\n") {
				fmt.Fprintf(g.Stdout, "      %s\n", line)
			}
		}
	}
}
