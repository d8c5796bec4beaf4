package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/types"
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

	// Cache is the directory of the model cache (cache.go); empty: loading
	// neither reads nor writes one.
	Cache string

	// environmentName is the project name an environment gives the
	// project, used unless -p or COMPOSE_PROJECT_NAME names it.
	environmentName string
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
	// cached is set when the model came from the model cache.
	cached bool
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
//
// Load returns as soon as ctx is done, with ctx's cause: compose-go does not
// look at ctx while it works, and a large manifest takes it seconds, so
// Ctrl-C must not wait for it. What it was doing is left to finish and be
// dropped.
func Load(ctx context.Context, opts Options) (*Project, error) {
	type loaded struct {
		p   *Project
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		p, err := load(ctx, opts)
		done <- loaded{p, err}
	}()
	select {
	case r := <-done:
		return r.p, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("loading the compose files: %w", context.Cause(ctx))
	}
}

func load(ctx context.Context, opts Options) (*Project, error) {
	if err := resolveRemoteFiles(ctx, &opts); err != nil {
		return nil, err
	}
	if opts.Environment != "" {
		return loadEnvironment(ctx, opts)
	}
	po, err := projectOptions(opts)
	if err != nil {
		return nil, err
	}
	wd, err := po.GetWorkingDir()
	if err != nil {
		return nil, fmt.Errorf("finding the project directory: %w", err)
	}
	if len(po.ConfigPaths) == 0 {
		return nil, fmt.Errorf("%w in %s or its parents: create compose.yaml there, or name one with -f", ErrNoComposeFile, wd)
	}
	files, err := readComposeFiles(po.ConfigPaths)
	if err != nil {
		return nil, err
	}
	main := files[0].Filename
	var cache *modelCache
	if opts.Cache != "" {
		cache = newModelCache(opts.Cache, opts, po, wd, files)
		if p := cache.get(po.Environment); p != nil {
			if err := p.validExtensions(); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	warned := warnings.Load()

	// compose-go stops at the first problem of several kinds; read the files
	// ourselves first to report all of them, with lines, and to refuse what
	// compose-go would choke on (see budget.go, refs.go).
	ps := &problems{}
	raw := newRawChecker(po.Environment.Resolve, wd, ps)
	for _, f := range files {
		raw.checkFile(f.Filename, f.Content)
	}
	if len(ps.errs) > 0 {
		raw.salvage(ctx, po, opts.Profiles, main)
		return nil, ps.err()
	}
	name, err := projectName(opts, po.Environment, wd, raw.docs)
	if err != nil {
		return nil, composeError(err, main, raw.idx)
	}
	raw.docs = nil // only salvage needed them; the rest of the load is large

	c := &compose{
		details:  types.ConfigDetails{WorkingDir: wd, ConfigFiles: files, Environment: po.Environment},
		name:     name,
		profiles: profiles(opts.Profiles, po.Environment),
		casts:    castsFor(raw.keys, !raw.unscanned),
	}
	cp, inconsistent, err := c.consistent(ctx)
	if err != nil {
		return nil, composeError(err, main, raw.idx)
	}
	for _, f := range files {
		cp.ComposeFiles = append(cp.ComposeFiles, f.Filename)
	}
	ck := &checker{p: cp, idx: raw.idx, main: main, ps: ps}
	ck.check()
	if err := ps.err(); err != nil {
		return nil, err
	}
	if inconsistent != nil {
		return nil, composeError(inconsistent, main, raw.idx)
	}
	ck.checkFiles()
	if err := ps.err(); err != nil {
		return nil, err
	}
	if cache != nil {
		cache.record(ck.inputs) // as they are before compose-go reads them
	}
	if cp, err = resolved(cp, main, raw.idx); err != nil {
		return nil, err
	}
	p := &Project{Project: cp.WithoutUnnecessaryResources(), Services: map[string]ServiceExtension{}, main: main, idx: raw.idx}
	if err := p.validExtensions(); err != nil {
		return nil, err
	}
	// What compose-go reads on its own (include:, extends.file) is not
	// known well enough to tell when it changes; what it warned about
	// would not be said again.
	if cache != nil && len(raw.seen) == 0 && !raw.unscanned && warnings.Load() == warned {
		cache.put(p)
	}
	return p, nil
}

// validExtensions decodes and checks the x-stack blocks.
func (p *Project) validExtensions() error {
	ps := &problems{}
	p.decodeExtensions(p.idx, p.main, ps)
	p.checkInject(ps)
	p.checkGateway(ps)
	p.checkKubernetes(ps)
	p.checkRelease(ps)
	return ps.err()
}

// readComposeFiles reads the compose files, stdin for "-", each a regular
// file (or stdin) of at most MaxFileSize, named by absolute path as
// compose-go names them.
func readComposeFiles(paths []string) ([]types.ConfigFile, error) {
	files := make([]types.ConfigFile, 0, len(paths))
	for _, p := range paths {
		if p == "-" {
			b, err := io.ReadAll(io.LimitReader(os.Stdin, MaxFileSize+1))
			if err != nil {
				return nil, fmt.Errorf("reading the compose file from stdin: %w", err)
			}
			if len(b) > MaxFileSize {
				return nil, fileError(pos{}, "", "", p, fmt.Errorf("%w: stdin carries more than %s", ErrFileTooLarge, sizeString(MaxFileSize)))
			}
			files = append(files, types.ConfigFile{Filename: p, Content: b})
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		b, err := readRegular(abs)
		if err != nil {
			return nil, fileError(pos{}, "", "", abs, err)
		}
		files = append(files, types.ConfigFile{Filename: abs, Content: b})
	}
	return files, nil
}

// profiles are the profiles to enable: the --profile flags, else
// COMPOSE_PROFILES (cli.WithDefaultProfiles).
func profiles(flags []string, env types.Mapping) []string {
	if len(flags) > 0 {
		return flags
	}
	var out []string
	for _, s := range strings.Split(env[consts.ComposeProfiles], ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// projectOptions builds compose-go's options in the order Docker Compose
// applies them (cmd/compose: toProjectOptions), so that the same flags and
// environment select the same files, .env, profiles and name.
func projectOptions(opts Options) (*cli.ProjectOptions, error) {
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
		envFiles,
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		// the project directory may only be known now, from the files found:
		// its .env counts too (Compose applies these two twice as well)
		cli.WithEnvFiles(opts.EnvFiles...),
		envFiles,
		cli.WithDotEnv,
		cli.WithName(opts.ProjectName),
	)
	po, err := cli.NewProjectOptions(opts.Files, fns...)
	var e *Error
	if errors.As(err, &e) {
		return nil, err // an env file: the error says which
	}
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
