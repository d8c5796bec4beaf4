package image

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/moby/buildkit/session/sshforward/sshprovider"

	"github.com/stack-deploy/stack/manifest"
)

// maxStepLines bounds the lines of a failing step kept for its error.
const maxStepLines = 60

// BuildError is a build the engine ran and that failed: the message of the
// failing step and that step's output.
type BuildError struct {
	Service string
	Image   string
	Message string
	// Output is the failing step's "Step N/M" line and the last lines of
	// its output.
	Output []string
}

func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "building service %q (image %s): %s", e.Service, e.Image, e.Message)
	if len(e.Output) > 0 {
		b.WriteString("\n    " + strings.Join(e.Output, "\n    "))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrBuildFailed) true.
func (e *BuildError) Is(target error) bool { return target == ErrBuildFailed }

// buildJob is one service's build, prepared and validated before anything
// is sent to the engine.
type buildJob struct {
	service string
	image   string
	inputs  buildInputs
	// bc is the service's build section, which the builder that runs the
	// job checks against what it can do (builder.check).
	bc *types.BuildConfig
	// errAt makes a user error about a field of the service, at its line.
	errAt func(field, problem, fix string) error
	// opts are the classic builder's options.
	opts build.ImageBuildOptions
	// secrets are the build secrets by ID; ssh the agents or keys
	// forwarded; syntax the Dockerfile's # syntax= directive, if any.
	secrets map[string][]byte
	ssh     []sshprovider.AgentConfig
	syntax  *syntaxDirective
	// warnings are settings the build will not apply, reported when it
	// is checked.
	warnings []string
	// force builds even when the image carries the digest of the inputs;
	// noCache builds without the engine's build cache (--no-cache).
	force   bool
	noCache bool
	// bases are the FROM images (and the images of additional_contexts'
	// service: entries); deps the jobs building some of them.
	bases []string
	deps  map[string]*buildJob
	// failed is set before the job's done channel closes.
	failed bool
	// dryRun builds nothing: see EnsureOptions.DryRun.
	dryRun bool
	// builder runs the job; set by Ensure once it knows what the engine
	// runs.
	builder builder
}

// builder is what runs builds: the engine's BuildKit, or its classic builder
// when it has none.
type builder interface {
	// check refuses, before anything is built, a setting of j the builder
	// cannot honour (an error naming the service and field), and reports
	// as a warning one it will ignore.
	check(ctx context.Context, j *buildJob) error
	// build runs j, labelling the image with the inputs digest, and returns
	// the new image's ID.
	build(ctx context.Context, j *buildJob, digest string) (string, error)
}

// prepareBuild reads a service's build context and Dockerfile and turns its
// build section into the builders' options, refusing what is wrong whatever
// the builder.
func prepareBuild(p *manifest.Project, s types.ServiceConfig, force bool) (*buildJob, error) {
	bc := s.Build
	errAt := func(field, problem, fix string) error {
		e := p.ErrorAt(s.Name, field)
		e.Problem, e.Fix = problem, fix
		return e
	}
	if strings.Contains(bc.Context, "://") || strings.HasPrefix(bc.Context, "git@") {
		return nil, errAt("build.context", "a remote context (a git repository or URL) is not supported: stack digests the context's files to skip unchanged builds", "clone it and point build.context at the directory")
	}
	ctxSpec, err := newContextSpec(bc.Context, bc.Dockerfile, bc.DockerfileInline)
	if err != nil {
		return nil, errAt("build", err.Error(), "fix build.context or build.dockerfile")
	}
	args := map[string]string{}
	buildArgs := map[string]*string{}
	for k, v := range bc.Args {
		if v == nil {
			env, ok := p.Environment[k]
			if !ok {
				continue
			}
			v = &env
		}
		args[k], buildArgs[k] = *v, v
	}
	name := p.ImageName(s.Name)
	tags := append([]string{name}, bc.Tags...)
	for _, t := range tags {
		if _, err := reference.ParseNormalizedNamed(t); err != nil {
			return nil, errAt("build.tags", fmt.Sprintf("image name %q: %v", t, err), "fix image: or build.tags")
		}
	}
	extraHosts := bc.ExtraHosts.AsList(":")
	var ulimits []*container.Ulimit
	for n, u := range bc.Ulimits {
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		ulimits = append(ulimits, &container.Ulimit{Name: n, Soft: soft, Hard: hard})
	}
	sort.Slice(ulimits, func(i, k int) bool { return ulimits[i].Name < ulimits[k].Name })
	j := &buildJob{
		service: s.Name,
		image:   name,
		bc:      bc,
		errAt:   errAt,
		// build.pull: the base may have changed in its registry, which only
		// the engine's pull can tell: always build (the layer cache keeps an
		// unchanged build cheap).
		force: force || bc.Pull,
		bases: baseImages(ctxSpec.dockerfileContent, args),
		inputs: buildInputs{
			context:       ctxSpec,
			args:          args,
			target:        bc.Target,
			labels:        bc.Labels,
			network:       bc.Network,
			extraHosts:    extraHosts,
			shmSize:       int64(bc.ShmSize),
			tags:          tags,
			noCache:       bc.NoCache,
			noCacheFilter: bc.NoCacheFilter,
			platforms:     bc.Platforms,
			cacheFrom:     bc.CacheFrom,
			isolation:     bc.Isolation,
		},
		opts: build.ImageBuildOptions{
			Tags:        tags,
			Dockerfile:  ctxSpec.dockerfile,
			BuildArgs:   buildArgs,
			Target:      bc.Target,
			NetworkMode: bc.Network,
			ExtraHosts:  extraHosts,
			ShmSize:     int64(bc.ShmSize),
			NoCache:     bc.NoCache,
			PullParent:  bc.Pull,
			CacheFrom:   bc.CacheFrom,
			Isolation:   container.Isolation(bc.Isolation),
			Ulimits:     ulimits,
			Remove:      true,
			ForceRemove: true,
			Version:     build.BuilderV1,
		},
	}
	if len(bc.Platforms) == 1 {
		j.opts.Platform = bc.Platforms[0]
	}
	for _, u := range ulimits {
		j.inputs.ulimits = append(j.inputs.ulimits, u.String())
	}
	if j.syntax = syntaxOf(ctxSpec.dockerfileContent, args); j.syntax != nil {
		j.bases = append(j.bases, j.syntax.ref)
	}
	if err := j.prepareSessionInputs(p); err != nil {
		return nil, err
	}
	return j, nil
}

// normalizedName is the form in which FROM lines and image names are
// compared: docker.io/library/busybox:latest for busybox.
func normalizedName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.TagNameOnly(named).String()
}
