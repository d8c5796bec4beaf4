package swarm

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestEveryFieldOnACluster: a service using every field the mapping turns
// into the spec (that a 1.41 manager takes) is accepted by the manager, its
// task runs, and the container the node made from it has each setting.
func TestEveryFieldOnACluster(t *testing.T) {
	lab := e2e.Swarm(t)
	cli := lab.Client(t)
	project := lab.SwarmProject(t)
	p := loadProject(t, project, "", `
services:
  kitchen:
    image: busybox:stable
    entrypoint: [sh, -c]
    command: ["echo ready > /tmp/ready && exec sleep 3600"]
    environment: {GREETING: hello}
    labels: {team: shop}
    user: "0:0"
    group_add: ["100"]
    working_dir: /tmp
    hostname: kitchen
    init: true
    stop_signal: SIGINT
    stop_grace_period: 2s
    read_only: true
    tty: true
    healthcheck: {test: [CMD, test, -f, /tmp/ready], interval: 1s, timeout: 1s, retries: 20}
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    sysctls: {net.core.somaxconn: "1024"}
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    dns: [10.235.0.1]
    dns_search: [shop.internal]
    dns_opt: [ndots:2]
    extra_hosts: ["db=10.0.0.9"]
    logging: {driver: json-file, options: {max-size: 1m}}
    security_opt: [label=disable]
    platform: linux/`+runtime.GOARCH+`
    restart: on-failure:3
    volumes:
      - data:/data
      - {type: tmpfs, target: /tmp, tmpfs: {size: 16m}}
      - {type: bind, source: /etc, target: /host-etc, read_only: true, bind: {create_host_path: false}}
    tmpfs: ["/run:size=1m"]
    deploy:
      labels: {tier: back}
      resources:
        limits: {cpus: "0.5", memory: 64M, pids: 100}
        reservations: {memory: 16M}
      placement:
        constraints: [node.role == manager]
        preferences: [{spread: node.labels.stack.lab.node}]
      update_config: {order: start-first, monitor: 5s}
      rollback_config: {parallelism: 2}
volumes:
  data: {labels: {keep: "yes"}}
`)
	cli.NegotiateAPIVersion(t.Context())
	d, err := Map(p, Options{Images: map[string]string{"kitchen": lab.Image(t, "busybox:stable")}, APIVersion: cli.ClientVersion()})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Warnings) > 0 {
		t.Fatalf("warnings: %v", d.Warnings)
	}
	create(t, cli, d)
	runningOn(t, cli, ServiceName(project, "kitchen"), 1)

	node := lab.NodeClient(t, 0) // placement: the manager
	id := taskContainer(t, node, ServiceName(project, "kitchen"))
	c, err := node.ContainerInspect(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	h := c.HostConfig
	checks := []struct {
		what string
		ok   bool
		got  any
	}{
		{"entrypoint and command", slices.Equal(c.Config.Entrypoint, []string{"sh", "-c"}) && len(c.Config.Cmd) == 1, [][]string{c.Config.Entrypoint, c.Config.Cmd}},
		{"environment", slices.Contains(c.Config.Env, "GREETING=hello"), c.Config.Env},
		{"labels", c.Config.Labels["team"] == "shop" && c.Config.Labels["io.stack.project"] == project, c.Config.Labels},
		{"user, working_dir, hostname, stop_signal, tty", c.Config.User == "0:0" && c.Config.WorkingDir == "/tmp" && c.Config.Hostname == "kitchen" && c.Config.StopSignal == "SIGINT" && c.Config.Tty,
			[]any{c.Config.User, c.Config.WorkingDir, c.Config.Hostname, c.Config.StopSignal, c.Config.Tty}},
		{"healthcheck", c.Config.Healthcheck != nil && slices.Equal(c.Config.Healthcheck.Test, []string{"CMD", "test", "-f", "/tmp/ready"}), c.Config.Healthcheck},
		{"init, read_only, group_add", h.Init != nil && *h.Init && h.ReadonlyRootfs && slices.Equal(h.GroupAdd, []string{"100"}), []any{h.Init, h.ReadonlyRootfs, h.GroupAdd}},
		{"cap_add, cap_drop", hasCap(h.CapAdd, "NET_ADMIN") && hasCap(h.CapDrop, "MKNOD"), []any{h.CapAdd, h.CapDrop}},
		{"sysctls", h.Sysctls["net.core.somaxconn"] == "1024", h.Sysctls},
		{"ulimits", len(h.Ulimits) == 1 && h.Ulimits[0].Name == "nofile" && h.Ulimits[0].Soft == 1024 && h.Ulimits[0].Hard == 2048, h.Ulimits},
		{"dns", slices.Equal(h.DNS, []string{"10.235.0.1"}) && slices.Equal(h.DNSSearch, []string{"shop.internal"}) && slices.Equal(h.DNSOptions, []string{"ndots:2"}), []any{h.DNS, h.DNSSearch, h.DNSOptions}},
		{"extra_hosts", slices.Contains(h.ExtraHosts, "db:10.0.0.9"), h.ExtraHosts},
		{"logging", h.LogConfig.Type == "json-file" && h.LogConfig.Config["max-size"] == "1m", h.LogConfig},
		{"resources", h.Memory == 64<<20 && h.NanoCPUs == 5e8 && h.PidsLimit != nil && *h.PidsLimit == 100 && h.MemoryReservation == 0, []any{h.Memory, h.NanoCPUs, h.PidsLimit}},
		{"volumes, tmpfs, bind", hasMount(c.Mounts, "volume", project+"_data", "/data") && hasMount(c.Mounts, "tmpfs", "", "/tmp") &&
			hasMount(c.Mounts, "tmpfs", "", "/run") && hasMount(c.Mounts, "bind", "/etc", "/host-etc"), c.Mounts},
	}
	for _, ck := range checks {
		if !ck.ok {
			b, _ := json.Marshal(ck.got)
			t.Errorf("%s: the container has %s", ck.what, b)
		}
	}
	// The volume the node made carries the project's labels (down -v finds it).
	if got := lab.Docker(t, 0, "volume", "inspect", "--format", "{{json .Labels}}", project+"_data"); !strings.Contains(got, `"keep":"yes"`) || !strings.Contains(got, `"io.stack.project":"`+project+`"`) {
		t.Errorf("volume labels %s", got)
	}
	// Swarm keeps the spec as given: the restart policy, placement and
	// update configs are the mapping's.
	svc, _, err := cli.ServiceInspectWithRaw(t.Context(), ServiceName(project, "kitchen"), swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := svc.Spec
	if rp := spec.TaskTemplate.RestartPolicy; rp == nil || rp.Condition != "on-failure" || rp.MaxAttempts == nil || *rp.MaxAttempts != 3 {
		t.Errorf("restart policy %+v", rp)
	}
	if pl := spec.TaskTemplate.Placement; pl == nil || len(pl.Platforms) != 1 || pl.Platforms[0].Architecture != runtime.GOARCH || len(pl.Preferences) != 1 {
		t.Errorf("placement %+v", pl)
	}
	if u, r := spec.UpdateConfig, spec.RollbackConfig; u == nil || u.Order != "start-first" || u.FailureAction != "rollback" || r == nil || r.Parallelism != 2 {
		t.Errorf("update %+v, rollback %+v", u, r)
	}
	if spec.Labels["tier"] != "back" || spec.Labels["io.stack.config-hash"] != d.Services[0].Hash.Sum {
		t.Errorf("service labels %v", spec.Labels)
	}
}

func hasMount(ms []container.MountPoint, typ, source, target string) bool {
	for _, m := range ms {
		if string(m.Type) == typ && m.Destination == target && (source == "" || m.Name == source || m.Source == source) {
			return true
		}
	}
	return false
}

// hasCap: engines before 23.0 keep capabilities as written, later ones add
// the CAP_ prefix.
func hasCap(caps []string, name string) bool {
	return slices.Contains(caps, name) || slices.Contains(caps, "CAP_"+name)
}
