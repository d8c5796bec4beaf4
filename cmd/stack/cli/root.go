package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/manifest"
)

// Globals are the flags every verb shares, with Docker Compose's names.
type Globals struct {
	Files            []string
	ProjectName      string
	ProjectDirectory string
	EnvFiles         []string
	Profiles         []string
	Progress         string
	// Env selects an environment of x-stack.environments (--env, STACK_ENV).
	Env string
	// Orchestrator overrides the environment's orchestrator for one run
	// (--orchestrator): docker or swarm.
	Orchestrator string

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// scale sets services' replicas in every project loaded (up --scale).
	scale map[string]int
}

// verbs holds the constructors of every sub-command; each verb's file adds
// its own in init, so adding a verb touches no other file.
var verbs []func(*Globals) *cobra.Command

func register(newCommand func(*Globals) *cobra.Command) {
	verbs = append(verbs, newCommand)
}

// NewRootCommand builds the `stack` command tree writing to the given streams.
func NewRootCommand(g *Globals) *cobra.Command {
	var engineTimeoutErr func() error
	root := &cobra.Command{
		Use:   "stack",
		Short: "Deploy compose-spec projects: plan, converge, release and promote",
		Long: "stack reads a compose project, injects the addresses of each service's dependencies\n" +
			"as environment variables, and converges the engine to it in dependency order.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// The project flags go before the verb, as with `docker compose`:
		// they are the root's own flags, parsed on the way to the verb, so a
		// verb's short flags (`logs -f` follow) do not clash with them.
		TraverseChildren:  true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := engineTimeoutErr(); err != nil {
				return err
			}
			return g.validate()
		},
		// With TraverseChildren an unknown verb lands here: say so.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q; see `stack --help`", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(g.Stdin)
	root.SetOut(g.Stdout)
	root.SetErr(g.Stderr)
	f := root.Flags()
	f.StringArrayVarP(&g.Files, "file", "f", nil, "compose configuration files, merged in order")
	f.StringVarP(&g.ProjectName, "project-name", "p", "", "project name (default: COMPOSE_PROJECT_NAME, the top-level name, or the directory name)")
	f.StringVar(&g.ProjectDirectory, "project-directory", "", "alternate working directory (default: the first compose file's directory)")
	f.StringArrayVar(&g.EnvFiles, "env-file", nil, "alternate environment files (default: .env in the project directory)")
	f.StringArrayVar(&g.Profiles, "profile", nil, "profiles to enable")
	f.StringVar(&g.Progress, "progress", "auto", "progress output: auto, tty, plain or json")
	// --env is for every verb and goes anywhere (`stack up --env prod`).
	root.PersistentFlags().StringVar(&g.Env, "env", os.Getenv("STACK_ENV"), "environment of x-stack.environments to use: its registry, files, env file and engine (default: STACK_ENV)")
	root.PersistentFlags().StringVar(&g.Orchestrator, "orchestrator", "", "deploy with this orchestrator for this run: docker (containers on one engine) or swarm (services on the Swarm whose manager the engine is) (default: the environment's orchestrator, else docker)")
	engineTimeoutErr = addEngineTimeoutFlag(root)
	_ = root.RegisterFlagCompletionFunc("orchestrator", cobra.FixedCompletions([]string{manifest.OrchestratorDocker, manifest.OrchestratorSwarm}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions(progressModes, cobra.ShellCompDirectiveNoFileComp))

	cmds := make([]*cobra.Command, 0, len(verbs))
	for _, v := range verbs {
		cmds = append(cmds, v(g))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	return root
}

func (g *Globals) validate() error {
	if err := manifest.ValidOrchestrator(g.Orchestrator); err != nil {
		return fmt.Errorf("--orchestrator: %w", err)
	}
	for _, m := range progressModes {
		if g.Progress == m {
			return nil
		}
	}
	return fmt.Errorf("--progress %q: use one of %v", g.Progress, progressModes)
}

// LoadProject loads the manifest the global flags point at. The engine of
// its environment (x-stack.environments.<env>.host) is p.Env.Host, which
// deploy.Open connects to.
func (g *Globals) LoadProject(ctx context.Context) (*manifest.Project, error) {
	p, err := manifest.Load(ctx, manifest.Options{
		Files:            g.Files,
		ProjectName:      g.ProjectName,
		ProjectDirectory: g.ProjectDirectory,
		EnvFiles:         g.EnvFiles,
		Profiles:         g.Profiles,
		Environment:      g.Env,
		Cache:            modelCacheDir(),
	})
	if err == nil && g.scale != nil {
		_, err = applyScales(p, g.scale)
	}
	return p, err
}

// modelCacheDir is where loading keeps the models of the projects it loads
// between runs (see manifest's cache.go): the user's cache directory. None
// with STACK_CACHE=off, nor in CI (CI set) unless STACK_CACHE=on: a CI job's
// environment holds its secrets, which interpolation can put in the model,
// and a CI machine seldom loads the same inputs twice.
func modelCacheDir() string {
	switch os.Getenv("STACK_CACHE") {
	case "off":
		return ""
	case "on":
	default:
		if os.Getenv("CI") != "" {
			return ""
		}
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "stack", "models")
}

// Execute runs stack with args and returns the process exit status. It is
// the only place errors are printed.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	routeLibraryLogs(stderr)
	g := &Globals{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := NewRootCommand(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	var ee *ExitError
	switch {
	case code > 128 && ctx.Err() != nil:
		fmt.Fprintln(stderr, "stack: interrupted")
	case err != nil && !(errors.As(err, &ee) && ee.Err == nil):
		fmt.Fprintf(stderr, "stack: %s\n", message(err))
	}
	return code
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && termIsTerminal(int(f.Fd()))
}
