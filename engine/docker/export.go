package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/engine"
)

// imager is what export and commit need beyond Client: *client.Client has
// both; a fake without them makes the verbs say so.
type imager interface {
	ContainerExport(ctx context.Context, containerID string) (io.ReadCloser, error)
	ContainerCommit(ctx context.Context, containerID string, options container.CommitOptions) (container.CommitResponse, error)
}

var (
	_ engine.Exporter  = (*Driver)(nil)
	_ engine.Committer = (*Driver)(nil)
	_ imager           = (*client.Client)(nil)
)

func (d *Driver) imager() (imager, error) {
	i, ok := d.client.(imager)
	if !ok {
		return nil, fmt.Errorf("the Docker client has no export or commit: %w", engine.ErrUnsupported)
	}
	return i, nil
}

// Export writes c's filesystem to w as a tar stream, as `docker export`.
func (d *Driver) Export(ctx context.Context, c engine.Container, w io.Writer) error {
	i, err := d.imager()
	if err != nil {
		return err
	}
	rc, err := i.ContainerExport(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("exporting container %q: %w", c.Name, err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("exporting container %q: %w", c.Name, err)
	}
	return nil
}

// Commit makes an image of c's changes, as `docker commit`.
func (d *Driver) Commit(ctx context.Context, c engine.Container, o engine.CommitOptions) (string, error) {
	i, err := d.imager()
	if err != nil {
		return "", err
	}
	res, err := i.ContainerCommit(ctx, c.ID, container.CommitOptions{
		Reference: o.Reference, Comment: o.Message, Author: o.Author, Pause: o.Pause, Changes: o.Changes,
	})
	if err != nil {
		return "", fmt.Errorf("committing container %q: %w", c.Name, err)
	}
	return res.ID, nil
}
