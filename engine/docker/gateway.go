package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/strslice"
	"github.com/docker/go-connections/nat"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
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

// listenPorts are the container ports the gateway listens on.
func listenPorts(g *engine.GatewaySpec) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range g.Ports {
		ps, _ := types.ParsePortConfig(p) // checked when loading
		for _, pc := range ps {
			if t := int(pc.Target); !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Ints(out)
	return out
}

// caddyConfig renders Caddy's JSON config: one server listening on the
// gateway's ports, a route per manifest route, longest path first, each to
// the addresses of the containers serving its service (round robin, a
// failed connection retried on another for a few seconds, a failing
// container passed over), or a 503 saying so when none serves. Automatic
// HTTPS is on only when the gateway listens on 443.
func caddyConfig(g *engine.GatewaySpec, routes []manifest.ServiceRoute, upstreams map[string][]string) ([]byte, error) {
	var listen []string
	https := false
	for _, p := range listenPorts(g) {
		listen = append(listen, ":"+strconv.Itoa(p))
		https = https || p == 443
	}
	var caddyRoutes []any
	for _, r := range routes {
		match := map[string]any{}
		if r.Host != "" {
			match["host"] = []string{r.Host}
		}
		if r.Path != "" && r.Path != "/" {
			match["path"] = []string{r.Path, strings.TrimSuffix(r.Path, "/") + "/*"}
		}
		var handle []any
		if r.StripPrefix {
			handle = append(handle, map[string]any{"handler": "rewrite", "strip_path_prefix": r.Path})
		}
		var ups []any
		for _, addr := range upstreams[r.Service] {
			ups = append(ups, map[string]any{"dial": addr + ":" + strconv.Itoa(r.Port)})
		}
		if len(ups) == 0 {
			handle = append(handle, map[string]any{"handler": "static_response", "status_code": 503,
				"body": fmt.Sprintf("no container of service %s is ready\n", r.Service)})
		} else {
			proxy := map[string]any{
				"handler":   "reverse_proxy",
				"upstreams": ups,
				"load_balancing": map[string]any{
					"selection_policy": map[string]any{"policy": "round_robin"},
					"try_duration":     "5s",
					"try_interval":     "100ms",
				},
				"health_checks": map[string]any{"passive": map[string]any{"fail_duration": "5s", "max_fails": 1}},
			}
			if r.Health != "" {
				proxy["health_checks"].(map[string]any)["active"] = map[string]any{"uri": r.Health, "interval": "2s", "timeout": "1s"}
			}
			handle = append(handle, proxy)
		}
		route := map[string]any{"handle": handle, "terminal": true}
		if len(match) > 0 {
			route["match"] = []any{match}
		}
		caddyRoutes = append(caddyRoutes, route)
	}
	server := map[string]any{"listen": listen, "routes": caddyRoutes}
	if !https {
		server["automatic_https"] = map[string]any{"disable": true}
	}
	cfg := map[string]any{
		"admin": map[string]any{"listen": "localhost:2019"},
		"apps":  map[string]any{"http": map[string]any{"servers": map[string]any{"gateway": server}}},
	}
	return json.MarshalIndent(cfg, "", "  ")
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
