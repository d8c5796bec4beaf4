package manifest

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
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
}

// Project is the loaded, validated desired state of one stack.
type Project struct {
	*types.Project
	// Stack is the top-level x-stack extension.
	Stack Extension
	// Services holds each service's own x-stack extension, by service name;
	// services without one are absent.
	Services map[string]ServiceExtension
}

// Load reads the compose files named by opts through compose-go, decodes the
// x-stack extensions and validates the result. Nothing here touches an engine.
func Load(ctx context.Context, opts Options) (*Project, error) {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	po, err := cli.NewProjectOptions(opts.Files,
		cli.WithWorkingDirectory(opts.ProjectDirectory),
		cli.WithEnv(env),
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(opts.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(opts.Profiles...),
		cli.WithName(opts.ProjectName),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("reading project options: %w", err)
	}
	cp, err := po.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	p := &Project{Project: cp, Services: map[string]ServiceExtension{}}
	if err := p.decodeExtensions(); err != nil {
		return nil, err
	}
	return p, nil
}
