package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// BuildKit is the part of BuildKit's client this package uses; the client
// ConnectBuildKit returns implements it. Tests wrap it (a counting
// decorator) or fake it.
type BuildKit interface {
	Solve(ctx context.Context, def *llb.Definition, opt client.SolveOpt, status chan *client.SolveStatus) (*client.SolveResponse, error)
	ListWorkers(ctx context.Context, opts ...client.ListWorkersOption) ([]*client.WorkerInfo, error)
	Info(ctx context.Context) (*client.Info, error)
}

var _ BuildKit = (*client.Client)(nil)

// nativeGRPCAPI is the first Engine API version whose socket serves gRPC
// itself over HTTP/2 (moby/moby#50744): no hijacked /grpc and /session.
const nativeGRPCAPI = "1.53"

// connectTimeout bounds the first call that proves a BuildKit connection
// works, so an engine that accepts the upgrade and then says nothing does
// not hang a build.
const connectTimeout = 10 * time.Second

// ConnectBuildKit connects to the BuildKit that the engine c talks to runs
// in itself, over the Engine API: an engine of API 1.53 or later on a local
// socket speaks gRPC over HTTP/2 on that socket; any other (engine 20.10
// included) upgrades POST /grpc to h2c for the control API and POST
// /session for the files, secrets and credentials BuildKit asks for, as
// buildx's docker driver does. The connection is proven by listing the
// engine's BuildKit workers; an engine without BuildKit fails here with
// ErrNoBuildKit.
func ConnectBuildKit(ctx context.Context, c Client) (BuildKit, error) {
	ping, err := c.Ping(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
	}
	local := strings.HasPrefix(c.DaemonHost(), "unix://") || strings.HasPrefix(c.DaemonHost(), "npipe://")
	if local && versions.GreaterThanOrEqualTo(ping.APIVersion, nativeGRPCAPI) {
		bk, err := probe(ctx, func(ctx context.Context) (*client.Client, error) {
			return client.New(ctx, "", client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return c.Dialer()(ctx)
			}))
		})
		if err == nil {
			return bk, nil
		}
		// A proxy in front of the socket may speak only HTTP/1.1: the
		// upgrade endpoints still work there.
	}
	return probe(ctx, func(ctx context.Context) (*client.Client, error) {
		return client.New(ctx, "",
			client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return c.DialHijack(ctx, "/grpc", "h2c", nil)
			}),
			client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
				return c.DialHijack(ctx, "/session", proto, meta)
			}))
	})
}

func probe(ctx context.Context, dial func(context.Context) (*client.Client, error)) (BuildKit, error) {
	bk, err := dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoBuildKit, err)
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if _, err := bk.ListWorkers(ctx); err != nil {
		_ = bk.Close()
		return nil, fmt.Errorf("%w: %s", ErrNoBuildKit, dialReason(err))
	}
	return bk, nil
}

var dialFailure = regexp.MustCompile(`Error while dialing: (.*?)"?$`)

// dialReason is why gRPC could not reach BuildKit, without the layers of
// wrapping gRPC adds ("failed to list workers: Unavailable: connection
// error: desc = ...").
func dialReason(err error) string {
	msg := status.Convert(errors.Unwrap(err)).Message()
	if m := dialFailure.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return err.Error()
}

// buildKitInfo is what the engine's BuildKit can do, learnt once.
type buildKitInfo struct {
	platforms []ocispecs.Platform
	// imageStore is true on an engine that keeps images in containerd
	// (the worker names its snapshotter): only it takes several platforms
	// under one tag and exports build cache anywhere but inline.
	imageStore bool
	// version is BuildKit's version, "" for one older than v0.11, which
	// has no Info call (engine 20.10 runs v0.8).
	version string
	// apiVersion is the engine's API version, for messages.
	apiVersion string
}

// describe names the builder in messages: "the built-in Dockerfile frontend
// of BuildKit v0.33.0 in the engine (API 1.56)".
func (i *buildKitInfo) describe() string {
	v := i.version
	if v == "" {
		v = "older than v0.11 (Docker 20.10 runs v0.8)"
	}
	return "the built-in Dockerfile frontend of BuildKit " + v + " in " + engineRelease(i.apiVersion)
}

// frontendV010 says whether the engine's built-in Dockerfile frontend is
// that of BuildKit v0.10 or later, the first to take additional build
// contexts, shm-size and ulimit. (A v0.10 engine, older than the Info call,
// is taken for an older one: refused what it could do, never handed what
// it would drop.)
func (i *buildKitInfo) frontendV010() bool { return i.version != "" }

func inspectBuildKit(ctx context.Context, bk BuildKit) (*buildKitInfo, error) {
	ws, err := bk.ListWorkers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the engine's BuildKit workers: %w", err)
	}
	info := &buildKitInfo{}
	for _, w := range ws {
		info.platforms = append(info.platforms, w.Platforms...)
		if _, ok := w.Labels["org.mobyproject.buildkit.worker.snapshotter"]; ok {
			info.imageStore = true
		}
	}
	in, err := bk.Info(ctx)
	switch {
	case status.Code(err) == codes.Unimplemented:
	case err != nil:
		return nil, fmt.Errorf("asking the engine's BuildKit for its version: %w", err)
	default:
		info.version = in.BuildkitVersion.Version
		if info.version == "" {
			info.version = "unknown"
		}
	}
	return info, nil
}
