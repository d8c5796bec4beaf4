package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/build"

	"github.com/stack-deploy/stack/progress"
)

// classicNote names what an engine's classic builder cannot do, for the
// warning given when builds fall back to it.
const classicNote = "which cannot honour RUN --mount, COPY --chmod, build secrets, ssh, additional_contexts, several platforms or parallel stages"

// classicBuilder builds through POST /build with the engine's classic
// builder (API 1.41, no BuildKit session): only for an engine that runs no
// BuildKit, or when DOCKER_BUILDKIT=0 asks for it as it does of docker.
type classicBuilder struct {
	client Client
}

// check refuses the build settings the classic builder cannot honour:
// silently dropping them would build something other than what the file
// says.
func (c *classicBuilder) check(ctx context.Context, j *buildJob) error {
	bc := j.bc
	if j.syntax != nil {
		// The classic builder parses every Dockerfile itself: the frontend
		// image need not be fetched.
		j.bases = slices.DeleteFunc(j.bases, func(ref string) bool { return ref == j.syntax.ref })
		progress.Report(ctx, "image:"+j.service, "build", progress.Warning, j.syntax.at(j.inputs.context.dockerfileName())+": the classic builder ignores the directive", nil)
		j.syntax = nil
	}
	if err := checkDockerfileSyntax(j, "v0.0", "the engine's classic builder"); err != nil {
		return err
	}
	var field string
	switch {
	case len(bc.Secrets) > 0:
		field = "build.secrets"
	case len(bc.SSH) > 0:
		field = "build.ssh"
	case len(bc.AdditionalContexts) > 0:
		field = "build.additional_contexts"
	case len(bc.Platforms) > 1:
		field = "build.platforms"
	case len(bc.CacheTo) > 0:
		field = "build.cache_to"
	case len(bc.NoCacheFilter) > 0:
		field = "build.no_cache_filter"
	case bc.Privileged || len(bc.Entitlements) > 0:
		field = "build.privileged"
	default:
		return nil
	}
	return j.errAt(field, "the engine's classic builder cannot honour it (the engine runs no BuildKit)", "remove it, or build on an engine that runs BuildKit (Docker 19.03 or later)")
}

// build runs one build, streaming its output as progress events, and
// returns the new image's ID.
func (c *classicBuilder) build(ctx context.Context, j *buildJob, digest string) (string, error) {
	opts := j.opts
	opts.Labels = map[string]string{}
	for k, v := range j.inputs.labels {
		opts.Labels[k] = v
	}
	opts.Labels[InputsLabel] = digest

	opts.NoCache = opts.NoCache || j.noCache

	pr, pw := io.Pipe()
	defer pr.Close()
	go func() { pw.CloseWithError(j.inputs.context.writeTar(pw)) }()
	resp, err := c.client.ImageBuild(ctx, pr, opts)
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
		ins, err := c.client.ImageInspect(ctx, j.image)
		if err != nil {
			return "", fmt.Errorf("inspecting the image built for service %q: %w", j.service, err)
		}
		id = ins.ID
	}
	return id, nil
}
