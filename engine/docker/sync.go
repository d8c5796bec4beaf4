package docker

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
)

var _ engine.Syncer = (*Driver)(nil)

// Sync applies changes to the running containers of service, as Compose's
// watch does through the engine API: the deletions with one `rm -rf` exec,
// then the files copied in as one tar extracted at /, each entry under its
// container path. The containers are listed with one call: a sync is on
// the path from saving a file to seeing the change.
func (d *Driver) Sync(ctx context.Context, project, service string, changes []engine.FileChange) error {
	f := ProjectFilter(project)
	f.Add("label", engine.LabelService+"="+service)
	f.Add("status", "running")
	list, err := d.client.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("listing the containers of service %q: %w", service, err)
	}
	var cs []engine.Container
	for _, c := range list {
		if oc := observedContainer(nil, c); !oc.OneOff {
			cs = append(cs, oc)
		}
	}
	var deletes []string
	var copies []engine.FileChange
	for _, ch := range changes {
		if ch.Delete {
			deletes = append(deletes, ch.Container)
		} else {
			copies = append(copies, ch)
		}
	}
	return dag.Each(ctx, len(cs), 0, func(ctx context.Context, i int) error {
		c := cs[i]
		if len(deletes) > 0 {
			if err := d.remove(ctx, c, deletes); err != nil {
				return err
			}
		}
		if len(copies) == 0 {
			return nil
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, copies)) }()
		err := d.client.CopyToContainer(ctx, c.ID, "/", pr, container.CopyToContainerOptions{})
		_ = pr.Close()
		if err != nil {
			return fmt.Errorf("syncing %d files into container %q: %w", len(copies), c.Name, err)
		}
		return nil
	})
}

// remove runs rm -rf in c on paths.
func (d *Driver) remove(ctx context.Context, c engine.Container, paths []string) error {
	exec, err := d.client.ContainerExecCreate(ctx, c.ID, container.ExecOptions{Cmd: append([]string{"rm", "-rf", "--"}, paths...)})
	if err != nil {
		return fmt.Errorf("deleting %s in container %q: %w", strings.Join(paths, " "), c.Name, err)
	}
	hijack, err := d.client.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("deleting %s in container %q: %w", strings.Join(paths, " "), c.Name, err)
	}
	_, _ = io.Copy(io.Discard, hijack.Reader)
	hijack.Close()
	st, err := d.client.ContainerExecInspect(ctx, exec.ID)
	if err != nil || st.ExitCode != 0 {
		return fmt.Errorf("deleting %s in container %q: exit %d: %w", strings.Join(paths, " "), c.Name, st.ExitCode, err)
	}
	return nil
}

// writeTar writes the files of copies as a tar whose entries are their
// container paths relative to /. The engine makes the missing parent
// directories; existing ones keep their owner and mode.
func writeTar(w io.Writer, copies []engine.FileChange) error {
	tw := tar.NewWriter(w)
	for _, ch := range copies {
		name := strings.TrimPrefix(path.Clean(ch.Container), "/")
		if err := addFile(tw, ch.Local, name); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, local, name string) error {
	st, err := os.Lstat(local)
	if err != nil {
		return fmt.Errorf("reading %s: %w", local, err)
	}
	link := ""
	if st.Mode()&os.ModeSymlink != 0 {
		if link, err = os.Readlink(local); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(st, link)
	if err != nil {
		return err
	}
	h.Name = name
	if st.IsDir() {
		h.Name += "/"
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
