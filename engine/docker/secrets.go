package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Secrets and configs on one engine, as Docker Compose gives them without
// Swarm: a file source is bind-mounted read-only at its target; an
// environment or content source is copied into the created container before
// it starts (over the Engine API, so it works on a remote engine too, and
// nothing is written to a disk of ours), readable by root only unless the
// long syntax says otherwise.

// copiedMode is the mode of a copied secret or config without one of its own.
const copiedMode = 0o400

// copyFiles writes the environment and content sources of service into the
// created container.
type copyFiles struct{ service, container string }

// fileMounts bind-mounts the file sources of s read-only; one whose target a
// volume already mounts is left out, as Compose does (Check warns).
func fileMounts(p *types.Project, s types.ServiceConfig, host *container.HostConfig) error {
	files, err := engine.FileSources(p, s)
	if err != nil {
		return err
	}
	var binds []mount.Mount
	for _, f := range files {
		if !f.Copied() {
			binds = append(binds, mount.Mount{Type: mount.TypeBind, Source: f.File, Target: f.Target, ReadOnly: true})
		}
	}
	host.Mounts = append(host.Mounts, uncovered(host, binds)...)
	return nil
}

// copied returns the sources of service that are copied into its containers.
func copied(p *types.Project, service string) ([]engine.FileSource, error) {
	files, err := engine.FileSources(p, p.Services[service])
	if err != nil {
		return nil, err
	}
	var out []engine.FileSource
	for _, f := range files {
		if f.Copied() {
			out = append(out, f)
		}
	}
	return out, nil
}

// copyFiles plans the copy into a new container of a's service after the
// operation after, in txn, when it has anything to copy; it returns what
// comes next needs. Only the targets are shown, never a value.
func (b *builder) copyFiles(a *engine.Action, name, after, txn string) string {
	files, _ := copied(b.plan.Desired.Project, a.Name()) // Check has refused what cannot resolve
	if len(files) == 0 {
		return after
	}
	targets := make([]string, len(files))
	for i, f := range files {
		targets[i] = f.Target
	}
	op := b.op(a, engine.OpCopy, "container:"+name, &copyFiles{service: a.Name(), container: name}, after)
	op.Txn, op.Detail = txn, strings.Join(targets, ", ")
	return op.ID
}

// copyFiles writes the environment and content sources of p.service into
// p.container in one archive, owned by root (or the long syntax's uid and
// gid) with copiedMode (or its mode).
func (x *executor) copyFiles(ctx context.Context, p *copyFiles) error {
	files, err := copied(x.plan.Desired.Project, p.service)
	if err != nil {
		return err
	}
	return copyInto(ctx, x.client, p.container, files)
}

func copyInto(ctx context.Context, c Client, name string, files []engine.FileSource) error {
	if len(files) == 0 {
		return nil
	}
	archive, ids, err := fileArchive(files, time.Now())
	if err != nil {
		return err
	}
	if err := c.CopyToContainer(ctx, name, "/", archive, container.CopyToContainerOptions{CopyUIDGID: ids}); err != nil {
		return fmt.Errorf("copying secrets and configs into container %q: %w", name, err)
	}
	return nil
}

// fileArchive is the tar stream of files at their targets; ids reports
// whether one gives a uid or gid, which the engine must then keep.
func fileArchive(files []engine.FileSource, now time.Time) (*bytes.Buffer, bool, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	ids := false
	for _, f := range files {
		uid, gid, err := owner(f)
		if err != nil {
			return nil, false, err
		}
		ids = ids || f.UID != "" || f.GID != ""
		mode := int64(copiedMode)
		if f.Mode != nil {
			mode = int64(*f.Mode)
		}
		content := []byte(f.Content)
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.Target, "/"), Size: int64(len(content)), Mode: mode, Uid: uid, Gid: gid, ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, false, fmt.Errorf("%s %q: %w", f.Kind, f.Key, err)
		}
		if _, err := tw.Write(content); err != nil {
			return nil, false, fmt.Errorf("%s %q: %w", f.Kind, f.Key, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, false, err
	}
	return &buf, ids, nil
}

// owner reads the long syntax's uid and gid: numbers, 0 when not given.
func owner(f engine.FileSource) (uid, gid int, err error) {
	for _, id := range []struct {
		name, v string
		to      *int
	}{{"uid", f.UID, &uid}, {"gid", f.GID, &gid}} {
		if id.v == "" {
			continue
		}
		if *id.to, err = strconv.Atoi(id.v); err != nil || *id.to < 0 {
			return 0, 0, fmt.Errorf("%s %q: %s %q is not a number", f.Kind, f.Key, id.name, id.v)
		}
	}
	return uid, gid, nil
}

// checkFiles checks the secrets and configs of service s of p before
// anything changes: each resolves (defined, its variable set, its file a
// regular file), is something one engine can give (not external, no
// driver), and a copied one has somewhere to go (a writable root
// filesystem, no volume at or above its target). Warnings say what is not
// applied as written.
func checkFiles(p *manifest.Project, s types.ServiceConfig) (warnings []string, errs []error) {
	fail := func(service, field, problem, fix string) {
		e := p.ErrorAt(service, field)
		e.Problem, e.Fix, e.Err = problem, fix, engine.ErrFileSource
		errs = append(errs, e)
	}
	files, err := engine.FileSources(p.Project, s)
	var se *engine.SourceError
	switch {
	case errors.As(err, &se) && se.Field == "environment":
		fail("", se.Kind+"s."+se.Key+".environment", se.Problem, "set it, or write it in the project's .env file")
		return nil, errs
	case err != nil:
		return nil, []error{err}
	}
	mounted := map[string]bool{}
	for _, v := range s.Volumes {
		mounted[path.Clean(v.Target)] = true
	}
	for _, t := range s.Tmpfs {
		dir, _, _ := strings.Cut(t, ":")
		mounted[path.Clean(dir)] = true
	}
	targets := map[string]string{}
	for _, f := range files {
		top := f.Kind + "s." + f.Key
		ref := fmt.Sprintf("%ss (%s)", f.Kind, f.Key)
		switch {
		case bool(f.Def.External):
			fail("", top+".external", fmt.Sprintf("an external %s is a Swarm object, which a single engine does not have", f.Kind),
				"give it a file: or environment: source")
			continue
		case f.Def.Driver != "" || f.Def.TemplateDriver != "":
			fail("", top, fmt.Sprintf("driver and template_driver are Swarm's: a single engine cannot give this %s", f.Kind),
				"give it a plain file: or environment: source")
			continue
		}
		if other, dup := targets[f.Target]; dup {
			fail(s.Name, f.Kind+"s", fmt.Sprintf("%s and %s both go to %s", other, ref, f.Target), "give one of them another target")
		}
		targets[f.Target] = ref
		if !f.Copied() {
			if err := manifest.CheckRegularFile(f.File); err != nil {
				fail("", top+".file", err.Error(), "point file: at the regular file holding it")
			}
			if f.UID != "" || f.GID != "" || f.Mode != nil {
				warnings = append(warnings, fmt.Sprintf("service %q: %s: uid, gid and mode are not applied to a file source, which is bind-mounted with the host file's owner and mode", s.Name, ref))
			}
			if mounted[f.Target] {
				warnings = append(warnings, fmt.Sprintf("service %q: %s: volumes mount %s already; the volume is mounted there, not the %s", s.Name, ref, f.Target, f.Kind))
			}
			continue
		}
		if _, _, err := owner(f); err != nil {
			fail(s.Name, f.Kind+"s", err.Error(), "give uid and gid as numbers")
		}
		if s.ReadOnly {
			fail(s.Name, "read_only", fmt.Sprintf("%s is written into the container, whose root filesystem is read-only", ref),
				fmt.Sprintf("give the %s a file: source, which is mounted, or drop read_only", f.Kind))
		}
		if dir, ok := under(f.Target, mounted); ok {
			fail(s.Name, f.Kind+"s", fmt.Sprintf("%s would be written into what volumes mount at %s, and kept there", ref, dir),
				"give it a target outside the service's volumes and tmpfs")
		}
		if f.UID == "" && f.Mode == nil && !rootUser(s.User) {
			warnings = append(warnings, fmt.Sprintf("service %q: %s: only root can read %s (mode 0400), and the service runs as user %q; give uid or mode", s.Name, ref, f.Target, s.User))
		}
	}
	return warnings, errs
}

// under returns the mounted directory target is in (or is), if any.
func under(target string, mounted map[string]bool) (string, bool) {
	for dir := target; ; dir = path.Dir(dir) {
		if mounted[dir] {
			return dir, true
		}
		if dir == "/" || dir == "." {
			return "", false
		}
	}
}

// rootUser reports whether user (the service's user:) is root: unset, 0 or
// root, with any group.
func rootUser(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "0" || u == "root"
}
