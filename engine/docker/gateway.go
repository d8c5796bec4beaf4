package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/strslice"
	"github.com/docker/go-connections/nat"

	"github.com/stack-deploy/stack/engine"
)

// The gateway is one Caddy container per project, <project>-gateway,
// labelled io.stack.gateway. Its routes are a JSON config stack renders
// from the manifest and the containers that receive traffic (by their
// addresses, which a rename does not change), copied into the container
// and loaded with `caddy reload` through exec: Caddy swaps configs
// gracefully, finishing the requests under way on the old one, and the
// same calls work over ssh:// engines.

// LabelGateway marks a project's gateway container.
const LabelGateway = "io.stack.gateway"

// Where the gateway's config lives in its container.
const (
	gatewayConfig = "/etc/caddy/stack.json"
	gatewayRoutes = "/etc/caddy/stack-routes.json"
)

// GatewayName is the name of project's gateway container.
func GatewayName(project string) string { return project + "-gateway" }

// gatewayVolume is the volume that keeps the gateway's /data (the
// certificates Caddy obtains) across its replacements; `down -v` removes
// it, as any volume of the project.
func gatewayVolume(project string) string { return project + "_gateway-data" }

// routesFile is what stack keeps beside Caddy's config: the hash of the
// routes it was rendered from, and the containers receiving each service's
// traffic.
type routesFile struct {
	RoutesHash string              `json:"routes_hash"`
	Serving    map[string][]string `json:"serving"`
	// Routes names each service's routes, "api.example.com/api", for ps.
	Routes map[string][]string `json:"routes"`
}

// gatewaySpec is the gateway container's spec: Caddy running stack's
// config, its ports published, on its first network (the others are
// connected after it is created, as for any container on API 1.41).
func gatewaySpec(project string, g *engine.GatewaySpec, hash string) (spec, error) {
	cfg := &container.Config{
		Image: g.Image,
		Cmd:   strslice.StrSlice{"caddy", "run", "--config", gatewayConfig},
		Labels: map[string]string{
			engine.LabelProject: project, LabelGateway: "true", engine.LabelConfigHash: hash,
		},
		ExposedPorts: nat.PortSet{},
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		PortBindings:  nat.PortMap{},
		// Over the image's VOLUMEs, which would leave anonymous volumes
		// behind: /data kept on a volume of the project's, /config (what
		// Caddy saves of the config stack loads anyway) in memory.
		Mounts: []mount.Mount{
			{Type: mount.TypeVolume, Source: gatewayVolume(project), Target: "/data"},
			{Type: mount.TypeTmpfs, Target: "/config"},
		},
	}
	for _, p := range g.Ports {
		ps, err := types.ParsePortConfig(p)
		if err != nil {
			return spec{}, fmt.Errorf("x-stack.gateway.ports %q: %w", p, err)
		}
		for _, pc := range ps {
			np, err := nat.NewPort(pc.Protocol, strconv.FormatUint(uint64(pc.Target), 10))
			if err != nil {
				return spec{}, fmt.Errorf("x-stack.gateway.ports %q: %w", p, err)
			}
			cfg.ExposedPorts[np] = struct{}{}
			host.PortBindings[np] = append(host.PortBindings[np], nat.PortBinding{HostIP: pc.HostIP, HostPort: pc.Published})
		}
	}
	sp := spec{config: cfg, host: host, network: &network.NetworkingConfig{}}
	if len(g.Networks) > 0 {
		host.NetworkMode = container.NetworkMode(g.Networks[0])
		sp.network.EndpointsConfig = map[string]*network.EndpointSettings{g.Networks[0]: {}}
		for _, n := range g.Networks[1:] {
			if sp.connect == nil {
				sp.connect = map[string]*network.EndpointSettings{}
			}
			sp.connect[n] = &network.EndpointSettings{}
		}
	}
	return sp, nil
}

// readRoutes reads the routes file from a gateway container; nil when it
// has none that reads: a gateway to load the routes into again.
func readRoutes(ctx context.Context, c Client, id string) *routesFile {
	rc, _, err := c.CopyFromContainer(ctx, id, gatewayRoutes)
	if err != nil {
		return nil
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return nil
	}
	var rf routesFile
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&rf); err != nil {
		return nil
	}
	return &rf
}
