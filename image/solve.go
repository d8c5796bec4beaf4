package image

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/tonistiigi/fsutil"

	"github.com/stack-deploy/stack/progress"
)

// buildKitBuilder builds with the engine's own BuildKit: the Dockerfile
// frontend built into it, the context, Dockerfile, secrets, ssh agents and
// registry credentials served through a session, the image exported into
// the engine's image store under its tags.
type buildKitBuilder struct {
	bk       BuildKit
	info     *buildKitInfo
	keychain authn.Keychain
}

// check refuses what the engine's BuildKit cannot do, naming the field.
func (k *buildKitBuilder) check(ctx context.Context, j *buildJob) error {
	bc := j.bc
	for _, w := range j.warnings {
		progress.Report(ctx, "image:"+j.service, "build", progress.Warning, w, nil)
	}
	if bc.Isolation != "" && bc.Isolation != "default" {
		progress.Report(ctx, "image:"+j.service, "build", progress.Warning, "build.isolation: "+bc.Isolation+": BuildKit builds Linux images without isolation modes; ignored", nil)
	}
	switch bc.Network {
	case "", "default", "host", "none":
	default:
		return j.errAt("build.network", fmt.Sprintf("%q: BuildKit runs build steps on the default, host or none network only", bc.Network), "use one of them (a step that must reach a host by name can get it from extra_hosts)")
	}
	if err := k.checkPlatforms(j); err != nil {
		return err
	}
	if err := checkDockerfileSyntax(j, k.info.version, k.info.describe()); err != nil {
		return err
	}
	if _, err := cacheEntries(bc.CacheFrom); err != nil {
		return j.errAt("build.cache_from", err.Error(), "write an image reference or type=registry,ref=IMAGE")
	}
	to, err := cacheEntries(bc.CacheTo)
	if err != nil {
		return j.errAt("build.cache_to", err.Error(), "write type=inline")
	}
	for _, e := range to {
		if e.Type != "inline" && !k.info.imageStore {
			return j.errAt("build.cache_to", fmt.Sprintf("type=%s: the engine keeps its images outside containerd, and its BuildKit exports build cache only inline, into the image", e.Type), "use type=inline, or the containerd image store (Docker 24 or later, \"features\": {\"containerd-snapshotter\": true})")
		}
	}
	if !k.info.frontendV010() {
		// These size the steps' sandbox, not the image: a warning, as the
		// build can still give the image the file asks for.
		if bc.ShmSize > 0 {
			progress.Report(ctx, "image:"+j.service, "build", progress.Warning, "build.shm_size: the engine's BuildKit (older than v0.11: Docker 20.10 runs v0.8) cannot size /dev/shm for build steps; ignored", nil)
		}
		if len(bc.Ulimits) > 0 {
			progress.Report(ctx, "image:"+j.service, "build", progress.Warning, "build.ulimits: the engine's BuildKit (older than v0.11: Docker 20.10 runs v0.8) cannot set ulimits for build steps; ignored", nil)
		}
	}
	if len(bc.AdditionalContexts) > 0 && !k.info.frontendV010() {
		return j.errAt("build.additional_contexts", "the engine's BuildKit (older than v0.11: Docker 20.10 runs v0.8) has no additional build contexts", "remove them (COPY --from=IMAGE takes another image's files), or build on Docker 23 or later")
	}
	for field, v := range map[string]string{"build.provenance": bc.Provenance, "build.sbom": bc.SBOM} {
		if v != "" && v != "false" && !k.info.imageStore {
			return j.errAt(field, "the engine keeps its images outside containerd, where no attestation can go", "remove it, or use the containerd image store")
		}
	}
	return nil
}

func (k *buildKitBuilder) checkPlatforms(j *buildJob) error {
	bc := j.bc
	if len(bc.Platforms) > 1 && !k.info.imageStore {
		return j.errAt("build.platforms", fmt.Sprintf("%s: the engine keeps its images outside containerd, one platform per tag", strings.Join(bc.Platforms, ", ")), "name one platform, or use the containerd image store")
	}
	var have []string
	for _, w := range k.info.platforms {
		have = append(have, platforms.Format(w))
	}
	for _, s := range bc.Platforms {
		p, err := platforms.Parse(s)
		if err != nil {
			return j.errAt("build.platforms", err.Error(), "write os/arch[/variant], e.g. linux/amd64")
		}
		m := platforms.NewMatcher(p)
		ok := false
		for _, w := range k.info.platforms {
			ok = ok || m.Match(w)
		}
		if !ok {
			return j.errAt("build.platforms", fmt.Sprintf("%s: the engine's BuildKit builds for %s only", s, strings.Join(have, ", ")), "remove it, or register an emulator for it on the engine (binfmt)")
		}
	}
	return nil
}

// cacheEntries reads cache_from or cache_to entries: an image reference,
// or type=...,key=value,... as docker buildx takes them.
func cacheEntries(entries []string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, s := range entries {
		if !strings.Contains(s, "=") {
			out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": s}})
			continue
		}
		fields, err := csv.NewReader(strings.NewReader(s)).Read()
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		e := client.CacheOptionsEntry{Attrs: map[string]string{}}
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("%q: %q is not key=value", s, f)
			}
			if k == "type" {
				e.Type = v
			} else {
				e.Attrs[k] = v
			}
		}
		if e.Type == "" {
			if _, ok := e.Attrs["ref"]; !ok {
				return nil, fmt.Errorf("%q: no type", s)
			}
			e.Type = "registry"
		}
		out = append(out, e)
	}
	return out, nil
}

// frontendAttrs are the Dockerfile frontend's options for j, as docker
// buildx sets them.
func frontendAttrs(j *buildJob, filename, digest string) map[string]string {
	in := j.inputs
	a := map[string]string{"filename": filename, "label:" + InputsLabel: digest}
	for k, v := range in.args {
		a["build-arg:"+k] = v
	}
	for k, v := range in.labels {
		a["label:"+k] = v
	}
	if in.target != "" {
		a["target"] = in.target
	}
	if len(in.platforms) > 0 {
		a["platform"] = strings.Join(in.platforms, ",")
	}
	switch {
	case in.noCache || j.noCache:
		a["no-cache"] = ""
	case len(in.noCacheFilter) > 0:
		a["no-cache"] = strings.Join(in.noCacheFilter, ",")
	}
	if j.bc.Pull {
		a["image-resolve-mode"] = "pull"
	}
	if len(in.extraHosts) > 0 {
		a["add-hosts"] = strings.Join(j.bc.ExtraHosts.AsList("="), ",")
	}
	if in.shmSize > 0 {
		a["shm-size"] = strconv.FormatInt(in.shmSize, 10)
	}
	if len(in.ulimits) > 0 {
		a["ulimit"] = strings.Join(in.ulimits, ",")
	}
	if in.network == "host" || in.network == "none" {
		a["force-network-mode"] = in.network
	}
	for n, nc := range in.contexts {
		a["context:"+n] = nc.ref
	}
	return a
}

// build runs j's Solve, reporting each step as it starts and ends.
func (k *buildKitBuilder) build(ctx context.Context, j *buildJob, digest string) (string, error) {
	c := j.inputs.context
	ctxFS, err := fsutil.NewFS(c.dir)
	if err == nil {
		// The frontend applies .dockerignore itself; filtering here too
		// makes sure what is sent is exactly what the digest covers.
		ctxFS, err = fsutil.NewFilterFS(ctxFS, &fsutil.FilterOpt{ExcludePatterns: c.excludes})
	}
	if err != nil {
		return "", fmt.Errorf("service %q: reading build context: %w", j.service, err)
	}
	dfDir, filename := filepath.Split(c.dockerfilePath)
	if c.dockerfilePath == "" {
		// dockerfile_inline travels as a file of its own directory.
		tmp, err := os.MkdirTemp("", "stack-dockerfile-")
		if err != nil {
			return "", fmt.Errorf("service %q: writing dockerfile_inline: %w", j.service, err)
		}
		defer os.RemoveAll(tmp)
		dfDir, filename = tmp, "Dockerfile"
		if err := os.WriteFile(filepath.Join(tmp, filename), c.dockerfileContent, 0o600); err != nil {
			return "", fmt.Errorf("service %q: writing dockerfile_inline: %w", j.service, err)
		}
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return "", fmt.Errorf("service %q: reading the Dockerfile: %w", j.service, err)
	}
	mounts := map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS}
	for n, nc := range j.inputs.contexts {
		if nc.dir == nil {
			continue
		}
		fs, err := fsutil.NewFS(nc.dir.dir)
		if err == nil {
			fs, err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{ExcludePatterns: nc.dir.excludes})
		}
		if err != nil {
			return "", fmt.Errorf("service %q: reading additional context %s: %w", j.service, n, err)
		}
		mounts[localMount(n)] = fs
	}
	attach := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{AuthConfigProvider: registryAuth(k.keychain)})}
	if len(j.secrets) > 0 {
		attach = append(attach, secretsprovider.FromMap(j.secrets))
	}
	if len(j.ssh) > 0 {
		sp, err := sshprovider.NewSSHAgentProvider(j.ssh)
		if err != nil {
			return "", fmt.Errorf("service %q: build.ssh: %w", j.service, err)
		}
		attach = append(attach, sp)
	}
	imports, _ := cacheEntries(j.bc.CacheFrom) // checked by check
	exports, _ := cacheEntries(j.bc.CacheTo)
	opt := client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: frontendAttrs(j, filename, digest),
		LocalMounts:   mounts,
		Session:       attach,
		Exports:       []client.ExportEntry{{Type: "moby", Attrs: map[string]string{"name": strings.Join(j.inputs.tags, ",")}}},
		CacheImports:  imports,
		CacheExports:  exports,
		SharedKey:     sharedKey(c.dir, dfDir),
	}
	if j.inputs.network == "host" {
		opt.AllowedEntitlements = append(opt.AllowedEntitlements, "network.host")
	}
	if j.bc.Privileged {
		opt.AllowedEntitlements = append(opt.AllowedEntitlements, "security.insecure")
	}
	opt.AllowedEntitlements = append(opt.AllowedEntitlements, j.bc.Entitlements...)

	steps := newStepReporter(ctx, "image:"+j.service, j.secrets)
	status := make(chan *client.SolveStatus)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for s := range status {
			steps.update(s)
		}
	}()
	resp, err := k.bk.Solve(ctx, nil, opt, status)
	<-drained
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", steps.buildError(j, err)
	}
	id := resp.ExporterResponse["containerimage.digest"]
	if id == "" {
		return "", fmt.Errorf("building service %q (image %s): the engine's BuildKit returned no image ID", j.service, j.image)
	}
	return id, nil
}

// sharedKey names the engine-side copies of a build's local sources (its
// context and Dockerfile directories, from this machine), as buildx does:
// BuildKit keeps one copy per source name and key, and syncs into it only
// what changed. Without it every build's context is one copy: services
// built one after another each sync theirs over the last one's, which
// sends it all again and gives its directories new mtimes, so a build with
// nothing changed makes a new layer and a new image ID, and up recreates
// the containers.
func sharedKey(dirs ...string) string {
	host, _ := os.Hostname()
	h := sha256.Sum256([]byte(host + "\x00" + strings.Join(dirs, "\x00")))
	return "stack-" + hex.EncodeToString(h[:12])
}
