package image

import (
	"context"
	"io"
	"net"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Client is the part of the Docker client this package uses; *client.Client
// implements it. Tests wrap it (a counting decorator) or fake it.
type Client interface {
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
	ImagePush(ctx context.Context, ref string, options image.PushOptions) (io.ReadCloser, error)
	ImageTag(ctx context.Context, source, target string) error
	ImageRemove(ctx context.Context, imageID string, options image.RemoveOptions) ([]image.DeleteResponse, error)

	// The engine's own BuildKit is reached through these (ConnectBuildKit).
	Ping(ctx context.Context) (types.Ping, error)
	DaemonHost() string
	Dialer() func(context.Context) (net.Conn, error)
	DialHijack(ctx context.Context, url, proto string, meta map[string][]string) (net.Conn, error)
}

var _ Client = (*client.Client)(nil)
