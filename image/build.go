package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
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
	opts    build.ImageBuildOptions
	// force builds even when the image carries the digest of the inputs.
	force bool
	// bases are the FROM images; deps the jobs building some of them.
	bases []string
	deps  map[string]*buildJob
	// failed is set before the job's done channel closes.
	failed bool
	// dryRun builds nothing: see EnsureOptions.DryRun.
	dryRun bool
}

// unsupportedBuild lists build settings the engine's classic builder (API
// 1.41, no BuildKit session) cannot honour; silently dropping them would
// build something other than what the file says.
func unsupportedBuild(bc *types.BuildConfig) string {
	switch {
	case strings.Contains(bc.Context, "://") || strings.HasPrefix(bc.Context, "git@"):
		return "context (a remote context)"
	case len(bc.Secrets) > 0:
		return "secrets"
	case len(bc.SSH) > 0:
		return "ssh"
	case len(bc.AdditionalContexts) > 0:
		return "additional_contexts"
	case len(bc.Platforms) > 1:
		return "platforms"
	case bc.Privileged || len(bc.Entitlements) > 0:
		return "privileged"
	}
	return ""
}

// prepareBuild reads a service's build context and Dockerfile and turns its
// build section into the engine's build options.
func prepareBuild(p *manifest.Project, s types.ServiceConfig, force bool) (*buildJob, error) {
	bc := s.Build
	where := fmt.Sprintf("%s: service %q", strings.Join(p.ComposeFiles, ", "), s.Name)
	if f := unsupportedBuild(bc); f != "" {
		return nil, fmt.Errorf("%s: build.%s: the engine's classic builder cannot honour it; remove it, or build the image with docker buildx and name it in image", where, f)
	}
	ctxSpec, err := newContextSpec(bc.Context, bc.Dockerfile, bc.DockerfileInline)
	if err != nil {
		return nil, fmt.Errorf("%s: build: %w; fix build.context or build.dockerfile", where, err)
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
			return nil, fmt.Errorf("%s: image name %q: %w; fix image: or build.tags", where, t, err)
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
	j := &buildJob{
		service: s.Name,
		image:   name,
		// build.pull: the base may have changed in its registry, which only
		// the engine's pull can tell: always build (the layer cache keeps an
		// unchanged build cheap).
		force: force || bc.Pull,
		bases: baseImages(ctxSpec.dockerfileContent, args),
		inputs: buildInputs{
			context:    ctxSpec,
			args:       args,
			target:     bc.Target,
			labels:     bc.Labels,
			network:    bc.Network,
			extraHosts: extraHosts,
			shmSize:    int64(bc.ShmSize),
			tags:       tags,
			noCache:    bc.NoCache,
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
	j.inputs.platform, j.inputs.cacheFrom, j.inputs.isolation = j.opts.Platform, bc.CacheFrom, bc.Isolation
	for _, u := range ulimits {
		j.inputs.ulimits = append(j.inputs.ulimits, u.String())
	}
	sort.Strings(j.inputs.ulimits)
	return j, nil
}

// build runs one build, streaming its output as progress events, and
// returns the new image's ID.
func (b *Builder) build(ctx context.Context, j *buildJob, digest string) (string, error) {
	opts := j.opts
	opts.Labels = map[string]string{}
	for k, v := range j.inputs.labels {
		opts.Labels[k] = v
	}
	opts.Labels[InputsLabel] = digest

	pr, pw := io.Pipe()
	defer pr.Close()
	go func() { pw.CloseWithError(j.inputs.context.writeTar(pw)) }()
	resp, err := b.client.ImageBuild(ctx, pr, opts)
	if err != nil {
		return "", fmt.Errorf("building service %q (image %s): %w", j.service, j.image, err)
	}
	defer resp.Body.Close()

	resource := "image:" + j.service
	var (
		id   string
		step []string
	)
	lines := lineSplitter{emit: func(l string) {
		if strings.HasPrefix(l, "Step ") {
			step = step[:0]
		}
		if len(step) == maxStepLines {
			// Keep the step's own line and its last output, where the
			// failure is.
			step = append(step[:1], step[2:]...)
		}
		step = append(step, l)
		progress.Report(ctx, resource, "build", progress.Working, l, nil)
	}}
	err = readStream(resp.Body, func(m message) {
		switch {
		case len(m.Aux) > 0:
			var r build.Result
			if json.Unmarshal(m.Aux, &r) == nil && r.ID != "" {
				id = r.ID
			}
		case m.Stream != "":
			lines.write(m.Stream)
		default:
			if l := statusLine(m); l != "" {
				lines.write(l + "\n")
			}
		}
	})
	lines.flush()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &BuildError{Service: j.service, Image: j.image, Message: err.Error(), Output: step}
	}
	if id == "" {
		ins, err := b.client.ImageInspect(ctx, j.image)
		if err != nil {
			return "", fmt.Errorf("inspecting the image built for service %q: %w", j.service, err)
		}
		id = ins.ID
	}
	return id, nil
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
