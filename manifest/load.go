package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// Options say which compose files to read and how, with Docker Compose's
// meaning for each field (-f, -p, --project-directory, --env-file, --profile).
type Options struct {
	// Files are the compose files, merged in order. Empty: COMPOSE_FILE, else
	// discovery in the working directory and its parents, as Compose does.
	Files []string
	// ProjectName overrides the name; empty: COMPOSE_PROJECT_NAME, the
	// top-level `name:`, or the project directory's name, normalized.
	ProjectName string
	// ProjectDirectory is the base for relative paths; empty: the directory
	// of the first compose file.
	ProjectDirectory string
	// EnvFiles replace the default .env of the project directory.
	EnvFiles []string
	// Profiles enable services that carry these profiles; empty:
	// COMPOSE_PROFILES.
	Profiles []string
	// Env is the process environment used for interpolation; nil: os.Environ().
	Env []string
	// Environment selects one of x-stack.environments (the CLI's --env);
	// empty: none, the compose files as they are.
	Environment string
}

// Project is the loaded, validated desired state of one stack.
type Project struct {
	*types.Project
	// Stack is the top-level x-stack extension.
	Stack Extension
	// Services holds each service's own x-stack extension, by service name;
	// services without one are absent.
	Services map[string]ServiceExtension
	// Env is the environment the project was loaded for; nil when none was
	// selected.
	Env *Selected

	// main is the first compose file and idx where every key is written,
	// for user errors found after loading (ErrorAt).
	main string
	idx  index
}

// ErrNoComposeFile: no -f was given and discovery found no compose file.
var ErrNoComposeFile = errors.New("no compose file found")

// Load reads the compose files named by opts through compose-go, decodes the
// x-stack extensions and validates the result, reporting every problem it
// finds (an *Error each, joined in a multierror when there are several).
// Nothing here touches an engine.
//
// The model is the one `docker compose config` shows: env_file entries are
// resolved into environment, and networks and volumes no service uses are
// dropped.
func Load(ctx context.Context, opts Options) (*Project, error) {
	if opts.Environment != "" {
		return loadEnvironment(ctx, opts)
	}
	// compose-go's consistency check stops at the first broken reference and
	// is exponential on dependency graphs: checker.check and
	// composeConsistency do its work instead.
	po, err := projectOptions(opts, cli.WithConsistency(false))
	if err != nil {
		return nil, err
	}
	if len(po.ConfigPaths) == 0 {
		wd, _ := po.GetWorkingDir()
		return nil, fmt.Errorf("%w in %s or its parents: create compose.yaml there, or name one with -f", ErrNoComposeFile, wd)
	}
	main := po.ConfigPaths[0]

	// compose-go stops at the first problem of several kinds; read the files
	// ourselves first to report all of them, with lines.
	ps := &problems{}
	raw := &rawChecker{lookup: po.Environment.Resolve, idx: index{}, ps: ps, bad: map[*yaml.Node]bool{}, seen: map[string]bool{}}
	for _, f := range po.ConfigPaths {
		b, ok, err := readFile(f)
		if err != nil {
			return nil, err
		}
		if ok {
			raw.checkFile(f, b)
		}
	}
	if len(ps.errs) > 0 {
		raw.salvage(ctx, po, opts.Profiles, main)
		return nil, ps.err()
	}

	cp, err := po.LoadProject(ctx)
	if err != nil {
		return nil, composeError(err, main, raw.idx)
	}
	(&checker{p: cp, idx: raw.idx, main: main, ps: ps}).check()
	if err := ps.err(); err != nil {
		return nil, err
	}
	if err := composeConsistency(cp); err != nil {
		return nil, composeError(err, main, raw.idx)
	}
	p := &Project{Project: cp.WithoutUnnecessaryResources(), Services: map[string]ServiceExtension{}, main: main, idx: raw.idx}
	p.decodeExtensions(raw.idx, main, ps)
	p.checkInject(ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// projectOptions builds compose-go's options in the order Docker Compose
// applies them (cmd/compose: toProjectOptions), so that the same flags and
// environment select the same files, .env, profiles and name.
func projectOptions(opts Options, extra ...cli.ProjectOptionsFn) (*cli.ProjectOptions, error) {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	fns := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(opts.ProjectDirectory),
		cli.WithEnv(env),
	}
	if !hasVar(env, "PWD") {
		if pwd, err := os.Getwd(); err == nil {
			fns = append(fns, cli.WithEnv([]string{"PWD=" + pwd}))
		}
	}
	fns = append(fns,
		cli.WithEnvFiles(opts.EnvFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		// the project directory may only be known now, from the files found:
		// its .env counts too (Compose applies these two twice as well)
		cli.WithEnvFiles(opts.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(opts.Profiles...),
		cli.WithName(opts.ProjectName),
		cli.WithResolvedPaths(true),
		cli.WithDiscardEnvFile,
	)
	po, err := cli.NewProjectOptions(opts.Files, append(extra, fns...)...)
	if err != nil {
		return nil, fmt.Errorf("reading project options: %w", err)
	}
	return po, nil
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if len(kv) > len(name) && kv[:len(name)+1] == name+"=" {
			return true
		}
	}
	return false
}
