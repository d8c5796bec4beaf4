package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/progress"
)

// fetchJob is a service whose image is used as it is: looked up, and pulled
// when its pull_policy says so.
type fetchJob struct {
	service string
	image   string
	// policy is the normalized pull_policy; interval is set for daily,
	// weekly and every_<duration> (policy refresh).
	policy   string
	interval time.Duration
	// built is true for a service with a build section that is not being
	// built (--no-build).
	built bool
	// local is true for an image name that only a build makes
	// (<project>-<service>): no registry has it, so it is never pulled.
	local bool
	// dryRun pulls nothing: see EnsureOptions.DryRun.
	dryRun bool
}

// lookupParallel bounds the images fetchAll looks up (and pulls) at once: a
// look-up is a round trip, and Compose pulls every image at once.
const lookupParallel = 16

// fetchAll looks up (and pulls) every job's image in parallel and records
// the IDs; it returns every failure. Services sharing an image and a pull
// policy share one look-up: thirty services on one base image cost one
// inspect, not thirty.
func (b *Builder) fetchAll(ctx context.Context, jobs []fetchJob, ids *idMap) error {
	type key struct {
		image, policy string
		interval      time.Duration
		built, local  bool
	}
	var groups [][]fetchJob
	index := map[key]int{}
	for _, j := range jobs {
		k := key{j.image, j.policy, j.interval, j.built, j.local}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], j)
	}
	return dag.Each(ctx, len(groups), max(b.parallel, lookupParallel), func(ctx context.Context, i int) error {
		id, err := b.fetch(ctx, groups[i][0])
		if err != nil {
			progress.Report(ctx, "image:"+groups[i][0].service, "pull", progress.Failed, "", err)
			return err
		}
		for k, j := range groups[i] {
			ids.set(j.service, id)
			switch {
			case k == 0: // fetch reported it
			case id == "": // a dry run that would pull
				progress.Report(ctx, "image:"+j.service, "pull", progress.Info, "would pull "+j.image, nil)
			default:
				progress.Report(ctx, "image:"+j.service, "pull", progress.Done, "present "+shortID(id), nil)
			}
		}
		return nil
	})
}

// fetch applies the job's pull_policy as Compose does.
func (b *Builder) fetch(ctx context.Context, j fetchJob) (string, error) {
	ins, found, err := b.inspect(ctx, j.image)
	if err != nil {
		return "", fmt.Errorf("service %q: inspecting image %s: %w", j.service, j.image, err)
	}
	pull := !found
	switch j.policy {
	case types.PullPolicyAlways:
		pull = true
	case types.PullPolicyRefresh:
		pull = !found || j.interval == 0 || time.Since(ins.Metadata.LastTagTime) > j.interval
	case types.PullPolicyNever:
		if !found {
			return "", fmt.Errorf("service %q: image %s is not on the engine and pull_policy is never: %w; build or pull it, or change pull_policy", j.service, j.image, ErrNotFound)
		}
		pull = false
	case types.PullPolicyBuild:
		if !found {
			return "", fmt.Errorf("service %q: image %s is not on the engine, pull_policy is build and --no-build was given: %w; build it first", j.service, j.image, ErrNotFound)
		}
		pull = false
	}
	if pull && j.local {
		return "", fmt.Errorf("service %q: image %s is not on the engine and --no-build was given: %w; build it first (stack build %s)", j.service, j.image, ErrNotFound, j.service)
	}
	if !pull {
		progress.Report(ctx, "image:"+j.service, "pull", progress.Done, "present "+shortID(ins.ID), nil)
		return ins.ID, nil
	}
	if j.dryRun {
		progress.Report(ctx, "image:"+j.service, "pull", progress.Info, "would pull "+j.image, nil)
		return "", nil
	}
	if err := b.pull(ctx, j.service, j.image); err != nil {
		if found && j.policy == types.PullPolicyRefresh {
			// A scheduled refresh that fails keeps the image we have.
			progress.Report(ctx, "image:"+j.service, "pull", progress.Warning, "refresh failed, using the local image: "+err.Error(), nil)
			return ins.ID, nil
		}
		hint := "check the name and the registry credentials (docker login)"
		if j.built {
			hint = "build it (drop --no-build)"
		}
		return "", fmt.Errorf("service %q: image %s is not on the engine and pulling it failed: %w: %w; %s", j.service, j.image, ErrNotFound, err, hint)
	}
	ins, found, err = b.inspect(ctx, j.image)
	if err != nil || !found {
		return "", fmt.Errorf("service %q: inspecting image %s after pulling it: %w", j.service, j.image, errors.Join(err, ErrNotFound))
	}
	progress.Report(ctx, "image:"+j.service, "pull", progress.Done, "pulled "+shortID(ins.ID), nil)
	return ins.ID, nil
}

// pull pulls ref with the Docker config's credentials for its registry.
func (b *Builder) pull(ctx context.Context, service, ref string) error {
	creds, err := b.credentialsFor(ctx, ref)
	if err != nil {
		return err
	}
	progress.Report(ctx, "image:"+service, "pull", progress.Working, "pulling "+ref, nil)
	rc, err := b.client.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: creds.header})
	if err != nil {
		return creds.redactErr(err)
	}
	defer rc.Close()
	err = readStream(rc, func(m message) {
		if l := statusLine(m); l != "" {
			progress.Report(ctx, "image:"+service, "pull", progress.Working, l, nil)
		}
	})
	if err != nil {
		return creds.redactErr(err)
	}
	return nil
}

// inspect looks ref up on the engine; found is false when it has none.
func (b *Builder) inspect(ctx context.Context, ref string) (image.InspectResponse, bool, error) {
	ins, err := b.client.ImageInspect(ctx, ref)
	switch {
	case cerrdefs.IsNotFound(err):
		return image.InspectResponse{}, false, nil
	case err != nil:
		return image.InspectResponse{}, false, err
	}
	return ins, true, nil
}

// localID is ref's image ID on the engine, "" when it has none.
func (b *Builder) localID(ctx context.Context, ref string) (string, error) {
	ins, _, err := b.inspect(ctx, ref)
	return ins.ID, err
}
