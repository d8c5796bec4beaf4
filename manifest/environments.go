package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
)

// ErrUnknownEnvironment: --env (or STACK_ENV) names an environment that
// x-stack.environments does not define.
var ErrUnknownEnvironment = errors.New("unknown environment")

// ErrInvalidEnvironment: an environment's settings cannot be used.
var ErrInvalidEnvironment = errors.New("invalid environment")

// Environment is one named deploy target in x-stack.environments:
//
//	x-stack:
//	  environments:
//	    staging:
//	      registry: 127.0.0.1:5000/shop
//	      files: [compose.staging.yaml]
//	      env_file: staging.env
//	    prod:
//	      registry: 127.0.0.1:5001/shop
//	      host: tcp://prod-1.example.com:2376
//	      project: shop-live
//	      orchestrator: swarm
//
// Selecting one (Options.Environment, the CLI's --env or STACK_ENV) loads the
// base compose files, then its Files on top; interpolates with its EnvFile
// after the usual .env (or --env-file) files; names the project
// <project>-<environment> (shop-staging), or its Project, so that two
// environments deployed to one engine are two projects; and re-prefixes every service's
// image into its Registry as <registry>/<service>:<tag>, keeping the tag (or
// digest) the service had and "latest" when it had none. Every image of an
// environment thus lives in the environment's registry under a name derived
// from the service alone, which is what lets `stack promote` map an image in
// staging's registry to its place in prod's without any configuration.
type Environment struct {
	// Registry is the image registry/repository prefix, e.g. 127.0.0.1:5000/shop.
	// Empty: images keep the names the compose files give them, and the
	// environment cannot be released to or promoted into.
	Registry string `yaml:"registry,omitempty" json:"registry,omitempty"`
	// Files are extra compose override files, merged after the base files;
	// relative to the project directory.
	Files []string `yaml:"files,omitempty" json:"files,omitempty"`
	// EnvFile is an env file for interpolation in this environment, read after
	// (and winning over) the .env or --env-file files; relative to the project
	// directory. The process environment still wins over both, as in Compose.
	EnvFile string `yaml:"env_file,omitempty" json:"env_file,omitempty"`
	// Host is the engine endpoint, as DOCKER_HOST: unix://, tcp:// (with
	// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for TLS) or ssh://. Empty:
	// DOCKER_HOST, else the docker context, else the default socket.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// Project is the compose project name in this environment. Empty: the
	// base project's name (-p, COMPOSE_PROJECT_NAME, `name:` or the
	// directory's) and the environment's, <project>-<env>: two
	// environments are two projects even when COMPOSE_PROJECT_NAME is set.
	Project string `yaml:"project,omitempty" json:"project,omitempty"`
	// Orchestrator names the driver that deploys to Host: OrchestratorDocker
	// (the default: containers on one engine), OrchestratorSwarm (services
	// on the Swarm cluster whose manager Host is) or OrchestratorKubernetes
	// (workloads in a namespace of the cluster Context names).
	Orchestrator string `yaml:"orchestrator,omitempty" json:"orchestrator,omitempty"`

	// Context is the kubeconfig context of the cluster (orchestrator
	// kubernetes only); empty: the kubeconfig's current context.
	Context string `yaml:"context,omitempty" json:"context,omitempty"`
	// Namespace is the Kubernetes namespace the project is applied to;
	// empty: the environment's project name (shop-prod).
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Expose says how a Kubernetes cluster serves published ports:
	// ExposeNodePort (the default) or ExposeLoadBalancer.
	Expose string `yaml:"expose,omitempty" json:"expose,omitempty"`
	// Release replaces x-stack.release's lists in this environment, and
	// Verify are the checks of a deploy to it (release.go).
	Release *ReleasePhase `yaml:"release,omitempty" json:"release,omitempty"`
	Verify  []Check       `yaml:"verify,omitempty" json:"verify,omitempty"`
}

// The orchestrators an environment can name.
const (
	OrchestratorDocker = "docker"
	OrchestratorSwarm  = "swarm"
)

// ValidOrchestrator checks an orchestrator's name: empty (the default,
// docker), docker, swarm or kubernetes.
func ValidOrchestrator(name string) error {
	switch name {
	case "", OrchestratorDocker, OrchestratorSwarm, OrchestratorKubernetes:
		return nil
	}
	return fmt.Errorf("orchestrator %q is not one stack has: use %s, %s or %s", name, OrchestratorDocker, OrchestratorSwarm, OrchestratorKubernetes)
}

// Selected is the environment a Project was loaded for.
type Selected struct {
	// Name is the environment's key in x-stack.environments.
	Name string
	Environment
	// BaseFiles are the compose files loaded before the environment's own
	// Files: the manifest a release is made from, the same in every
	// environment.
	BaseFiles []string
	// SourceImages holds each service's image as the compose files name it,
	// before re-prefixing into Registry; "" for a service that only builds.
	// A release takes the images from there into the registry.
	SourceImages map[string]string
}

// loadEnvironment loads the base files to find x-stack.environments, then
// loads again with the selected environment's files and env file, and
// re-prefixes the images into its registry.
func loadEnvironment(ctx context.Context, opts Options) (*Project, error) {
	name := opts.Environment
	opts.Environment = ""
	base, err := Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	env, ok := base.Stack.Environments[name]
	if !ok {
		return nil, unknownEnvironment(base, name)
	}
	if err := env.validate(base, name); err != nil {
		return nil, err
	}
	if err := env.validateKubernetes(base, name); err != nil {
		return nil, err
	}
	if err := KnownOrchestrator(env.Orchestrator); err != nil {
		return nil, &Error{
			File: base.ComposeFiles[0], Field: "x-stack.environments." + name + ".orchestrator",
			Problem: err.Error(), Fix: "write orchestrator: swarm for a Swarm cluster (host: one of its managers), kubernetes for a Kubernetes cluster (context: its kubeconfig context), or leave it out for one Docker engine",
			Err: fmt.Errorf("%w: %w", ErrInvalidEnvironment, err),
		}
	}

	opts.environmentName = env.Project
	if opts.environmentName == "" {
		opts.environmentName = loader.NormalizeProjectName(base.Name + "-" + name)
	}
	opts.Files = slices.Clone(base.ComposeFiles)
	for _, f := range env.Files {
		opts.Files = append(opts.Files, base.path(f))
	}
	if env.EnvFile != "" {
		if len(opts.EnvFiles) == 0 {
			if dot := filepath.Join(base.WorkingDir, ".env"); fileExists(dot) {
				opts.EnvFiles = []string{dot}
			}
		}
		opts.EnvFiles = append(slices.Clone(opts.EnvFiles), base.path(env.EnvFile))
	}
	opts.ProjectDirectory = base.WorkingDir
	p, err := Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("loading environment %q: %w", name, err)
	}
	// as interpolated with the environment's env file
	if e, ok := p.Stack.Environments[name]; ok {
		env.Release, env.Verify = e.Release, e.Verify
	}
	if err := checkEnvironmentRelease(base, p, name, env); err != nil {
		return nil, err
	}
	p.Env = &Selected{
		Name:         name,
		Environment:  env,
		BaseFiles:    base.ComposeFiles,
		SourceImages: map[string]string{},
	}
	for svcName, svc := range p.Project.Services {
		p.Env.SourceImages[svcName] = svc.Image
		if env.Registry == "" {
			continue
		}
		img, err := EnvironmentImage(env.Registry, svcName, svc.Image)
		if err != nil {
			loc := base.ComposeFiles[0]
			return nil, &Error{
				File: loc, Service: svcName, Field: "image",
				Problem: err.Error(), Fix: "write a valid image reference such as redis:7-alpine",
				Err: fmt.Errorf("%w: %w", ErrInvalidEnvironment, err),
			}
		}
		svc.Image = img
		p.Project.Services[svcName] = svc
	}
	return p, nil
}

// EnvironmentImage is where service's image lives in an environment whose
// registry prefix is registry: <registry>/<service> with the tag or digest
// of image (the image the compose files name, "" for a service that only
// builds), or "latest".
func EnvironmentImage(registry, service, image string) (string, error) {
	repo := EnvironmentRepository(registry, service)
	if image == "" {
		return repo + ":latest", nil
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("parsing image %q: %w", image, err)
	}
	switch r := ref.(type) {
	case reference.Digested:
		return repo + "@" + r.Digest().String(), nil
	case reference.Tagged:
		return repo + ":" + r.Tag(), nil
	}
	return repo + ":latest", nil
}

// EnvironmentRepository is the repository of service's image in an
// environment whose registry prefix is registry: <registry>/<service>.
func EnvironmentRepository(registry, service string) string {
	return strings.TrimSuffix(registry, "/") + "/" + service
}

// validate checks the settings that compose-go does not; the error is
// located at the environment's setting in base's files.
func (e Environment) validate(base *Project, env string) error {
	invalid := func(field, problem, fix string, err error) error {
		ae := base.ErrorAt("", "x-stack.environments."+env+"."+field)
		ae.Problem, ae.Fix, ae.Err = problem, fix, fmt.Errorf("%w: %w", ErrInvalidEnvironment, err)
		return ae
	}
	if e.Registry != "" {
		// As strict as promotion (go-containerregistry) will be: the
		// registry host must be written out, Docker Hub's included
		// (docker.io/org).
		probe := strings.TrimSuffix(e.Registry, "/") + "/service"
		if _, err := name.NewRepository(probe, name.StrictValidation); err != nil {
			return invalid("registry", fmt.Sprintf("registry %q is not a repository prefix with its registry host (e.g. 127.0.0.1:5000/shop or docker.io/shop): %v", e.Registry, err),
				"write a repository prefix such as 127.0.0.1:5000/shop or registry.example.com/team/shop", err)
		}
	}
	if e.Project != "" && loader.NormalizeProjectName(e.Project) != e.Project {
		err := loader.InvalidProjectNameErr(e.Project)
		return invalid("project", err.Error(), fmt.Sprintf("write it as a compose project name, e.g. %q", loader.NormalizeProjectName(e.Project)), err)
	}
	return nil
}

func unknownEnvironment(p *Project, name string) error {
	known := EnvironmentNames(p)
	fix := "define it under x-stack.environments"
	if len(known) > 0 {
		fix = "use one of: " + strings.Join(known, ", ") + " (--env or STACK_ENV), or define it under x-stack.environments"
	}
	return &Error{
		File: p.ComposeFiles[0], Field: "x-stack.environments",
		Problem: fmt.Sprintf("environment %q is not defined", name),
		Fix:     fix,
		Err:     ErrUnknownEnvironment,
	}
}

// EnvironmentNames lists the environments the project defines, sorted.
func EnvironmentNames(p *Project) []string {
	names := make([]string, 0, len(p.Stack.Environments))
	for n := range p.Stack.Environments {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// path resolves a path written in the manifest against the project directory.
func (p *Project) path(f string) string {
	if filepath.IsAbs(f) {
		return f
	}
	return filepath.Join(p.WorkingDir, f)
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
