package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/docker/docker/api/types/container"
	"github.com/moby/go-archive"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.Copier = (*Driver)(nil)

// Copy copies between container c and this machine with `docker cp`'s
// meaning of the paths: the engine sends and takes tar archives, and
// go-archive's CopyInfo rules (which docker cp uses) decide how a source
// lands at a destination that is a directory, a file, or not there yet.
func (d *Driver) Copy(ctx context.Context, c engine.Container, o engine.CopyOptions) error {
	if o.ToContainer {
		return d.copyTo(ctx, c, o)
	}
	return d.copyFrom(ctx, c, o)
}

func (d *Driver) copyFrom(ctx context.Context, c engine.Container, o engine.CopyOptions) error {
	src, dst := o.ContainerPath, o.LocalPath
	var rebase string
	if o.FollowLink {
		if st, err := d.client.ContainerStatPath(ctx, c.ID, src); err == nil && st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !filepath.IsAbs(target) {
				dir, _ := archive.SplitPathDirEntry(src)
				target = filepath.Join(dir, target)
			}
			src, rebase = archive.GetRebaseName(src, target)
		}
	}
	content, st, err := d.client.CopyFromContainer(ctx, c.ID, src)
	if err != nil {
		return fmt.Errorf("copying %s from container %q: %w", o.ContainerPath, c.Name, err)
	}
	defer content.Close()
	if dst == "-" {
		if _, err := io.Copy(o.Stdout, content); err != nil {
			return fmt.Errorf("copying %s from container %q: %w", o.ContainerPath, c.Name, err)
		}
		return nil
	}
	dst, err = localPath(dst)
	if err != nil {
		return err
	}
	info := archive.CopyInfo{Path: src, Exists: true, IsDir: st.Mode.IsDir(), RebaseName: rebase}
	var r io.Reader = content
	if rebase != "" {
		_, base := archive.SplitPathDirEntry(src)
		r = archive.RebaseArchiveEntries(content, base, rebase)
	}
	if err := archive.CopyTo(r, info, dst); err != nil {
		return fmt.Errorf("copying %s from container %q to %s: %w", o.ContainerPath, c.Name, o.LocalPath, err)
	}
	return nil
}

func (d *Driver) copyTo(ctx context.Context, c engine.Container, o engine.CopyOptions) error {
	dstInfo := archive.CopyInfo{Path: o.ContainerPath}
	if st, err := d.client.ContainerStatPath(ctx, c.ID, o.ContainerPath); err == nil {
		if st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !filepath.IsAbs(target) {
				dir, _ := archive.SplitPathDirEntry(o.ContainerPath)
				target = filepath.Join(dir, target)
			}
			dstInfo.Path = target
			st, err = d.client.ContainerStatPath(ctx, c.ID, target)
		}
		// A destination not there yet is fine: its directory must be.
		if err == nil {
			dstInfo.Exists, dstInfo.IsDir = true, st.Mode.IsDir()
		}
	}
	var (
		content io.Reader
		dstDir  string
	)
	if o.LocalPath == "-" {
		if !dstInfo.IsDir {
			return fmt.Errorf("copying a tar stream to container %q: %s must be a directory", c.Name, o.ContainerPath)
		}
		content, dstDir = o.Stdin, dstInfo.Path
	} else {
		src, err := localPath(o.LocalPath)
		if err != nil {
			return err
		}
		srcInfo, err := archive.CopyInfoSourcePath(src, o.FollowLink)
		if err != nil {
			return fmt.Errorf("copying %s to container %q: %w", o.LocalPath, c.Name, err)
		}
		tar, err := archive.TarResource(srcInfo)
		if err != nil {
			return fmt.Errorf("copying %s to container %q: %w", o.LocalPath, c.Name, err)
		}
		defer tar.Close()
		// The archive is reshaped so that the engine, extracting it in
		// dstDir, gives what cp means (e.g. a file renamed to a new name).
		dir, prepared, err := archive.PrepareArchiveCopy(tar, srcInfo, dstInfo)
		if err != nil {
			return fmt.Errorf("copying %s to container %q: %w", o.LocalPath, c.Name, err)
		}
		defer prepared.Close()
		content, dstDir = prepared, dir
	}
	err := d.client.CopyToContainer(ctx, c.ID, dstDir, content, container.CopyToContainerOptions{CopyUIDGID: o.Archive})
	if err != nil {
		return fmt.Errorf("copying %s to %s in container %q: %w", o.LocalPath, o.ContainerPath, c.Name, err)
	}
	return nil
}

// localPath makes p absolute, keeping the trailing "/" or "/." that gives
// it its cp meaning.
func localPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	return archive.PreserveTrailingDotOrSeparator(abs, p), nil
}
