package swarm

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// TestMappingOnACluster proves the mapping on the lab's three nodes.
//
// Model: web, two busybox httpd tasks on nodes 2 and 3 (a placement
// constraint and one replica per node), endpoint_mode dnsrr, a host-mode
// port, a secret from the environment and a healthcheck; client, one task
// on node 1 with a config and a named volume; migrate, which client waits
// for with service_completed_successfully, so a job; all on the project's
// default overlay network.
//
// Steps: Map the project -> create its network, secret, config and services
// through the Docker client -> web runs on two nodes, client on a third ->
// client reaches web by its compose name across nodes -> each web node
// answers on its host-mode port with its own name, node 1 does not -> the
// secret is in web's task, the config in client's, and node 1 made the
// volume with the project's labels -> the migrate job completes -> Observe
// reads back the hashes Map gave, and mapping again gives the same ones (a
// redeploy would update nothing) -> cleanup removes all of it
// (SwarmProject).
func TestMappingOnACluster(t *testing.T) {
	lab := e2e.Swarm(t)
	cli := lab.Client(t)
	ctx := t.Context()
	project := lab.SwarmProject(t)
	port := 20000 + rand.IntN(10000)
	token := fmt.Sprintf("token-%d", rand.Int64())
	compose := fmt.Sprintf(`
services:
  web:
    image: busybox:stable
    command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
    hostname: "{{.Node.Hostname}}"
    healthcheck: {test: [CMD, test, -s, /www/index.html], interval: 1s, retries: 30}
    stop_grace_period: 1s
    ports: [{target: 80, published: "%d", mode: host}]
    secrets: [token]
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      placement:
        constraints: [node.labels.stack.lab.node != 1]
        max_replicas_per_node: 1
  client:
    image: busybox:stable
    command: [sleep, "3600"]
    stop_grace_period: 1s
    configs: [conf]
    volumes: [data:/data]
    depends_on:
      migrate: {condition: service_completed_successfully}
    deploy:
      placement: {constraints: [node.labels.stack.lab.node == 1]}
  migrate:
    image: busybox:stable
    command: [sh, -c, "test -s /run/secrets/token"]
    secrets: [token]
secrets:
  token: {environment: STACK_E2E_TOKEN}
configs:
  conf: {content: "port=80"}
volumes:
  data: {}
`, port)
	p := loadProject(t, project, "STACK_E2E_TOKEN="+token, compose)
	busybox := lab.Image(t, "busybox:stable")
	cli.NegotiateAPIVersion(ctx)
	opts := Options{Images: map[string]string{"web": busybox, "client": busybox, "migrate": busybox}, APIVersion: cli.ClientVersion()}
	d, err := Map(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Warnings) > 0 {
		t.Fatalf("warnings for a model Swarm can honour: %v", d.Warnings)
	}

	secretIDs := create(t, cli, d)

	webNodes := runningOn(t, cli, ServiceName(project, "web"), 2)
	clientNodes := runningOn(t, cli, ServiceName(project, "client"), 1)
	t.Logf("web runs on %v, client on %v", webNodes, clientNodes)
	if webNodes[0] == webNodes[1] || clientNodes[0] == webNodes[0] || clientNodes[0] == webNodes[1] {
		t.Fatalf("placement: web on %v and client on %v, want three different nodes", webNodes, clientNodes)
	}

	// By name, across nodes: the client is on node 1, web is not.
	clientID := taskContainer(t, lab.NodeClient(t, 0), ServiceName(project, "client"))
	var answer string
	poll(t, time.Minute, "client reaching web by name", func() bool {
		answer = lastLine(lab.Docker(t, 0, "exec", clientID, "sh", "-c", `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 web 80`))
		return answer != ""
	})
	if answer != "stklab-node2" && answer != "stklab-node3" {
		t.Errorf("web answered the client as %q, want a task on node 2 or 3", answer)
	}

	// Host-mode port: on the nodes running web, answered by that node's task.
	for i, node := range lab.Nodes {
		got, err := httpGet(fmt.Sprintf("http://%s:%d/", node.Addr, port))
		switch {
		case i == 0 && err == nil:
			t.Errorf("node 1 runs no web task, yet answered on port %d: %q", port, got)
		case i > 0 && strings.TrimSpace(got) != fmt.Sprintf("stklab-node%d", i+1):
			t.Errorf("node %d port %d: %q, %v; want its own task's hostname", i+1, port, got, err)
		}
	}

	webID := taskContainer(t, lab.NodeClient(t, 1), ServiceName(project, "web"))
	if got := lab.Docker(t, 1, "exec", webID, "cat", "/run/secrets/token"); got != token {
		t.Errorf("the secret in web's task is %q, want %q", got, token)
	}

	if got := lab.Docker(t, 0, "exec", clientID, "cat", "/conf"); got != "port=80" {
		t.Errorf("the config in client's task is %q, want port=80", got)
	}
	if got := lab.Docker(t, 0, "volume", "ls", "-q", "--filter", "label=io.stack.volume=data", "--filter", "label=io.stack.project="+project); got != project+"_data" {
		t.Errorf("node 1 has volumes %q labelled for data, want %s_data", got, project)
	}

	var o *Observed
	poll(t, time.Minute, "the migrate job to complete", func() bool {
		if o, err = Observe(ctx, cli, project); err != nil {
			t.Fatal(err)
		}
		return len(o.Services) == 3 && o.Services[1].Completed == 1
	})
	if m := o.Services[1]; m.Service != "migrate" || m.Mode != "replicated-job" {
		t.Errorf("observed %+v, want the migrate job", m)
	}
	again, err := Map(loadProject(t, project, "STACK_E2E_TOKEN="+token, compose), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Networks) != 1 || len(o.Secrets) != 1 || len(o.Configs) != 1 {
		t.Fatalf("observed %+v", o)
	}
	for i, s := range o.Services {
		want := d.Services[i] // both sorted by service name
		if s.Service != want.Name || s.Hash != want.Hash.Sum || s.Hash != again.Services[i].Hash.Sum || s.Image != busybox {
			t.Errorf("observed %s with hash %s and image %s; mapped %s with %s, again %s", s.Service, s.Hash, s.Image, want.Name, want.Hash.Sum, again.Services[i].Hash.Sum)
		}
	}
	if n := o.Networks[0]; n.Key != "default" || n.Driver != "overlay" || n.Hash != d.Networks[0].Spec.Labels["io.stack.config-hash"] {
		t.Errorf("observed network %+v", n)
	}
	if s := o.Secrets[0]; s.Key != "token" || s.Name != d.Secrets[0].Name || s.ID != secretIDs[s.Name] {
		t.Errorf("observed secret %+v", s)
	}
}

// create creates what d holds through the Docker client, as the driver
// will: networks, then secrets and configs, then the services referring to
// them by ID. It returns the secrets' IDs by name.
func create(t *testing.T, cli *client.Client, d *Desired) map[string]string {
	t.Helper()
	ctx := t.Context()
	for _, n := range d.Networks {
		if _, err := cli.NetworkCreate(ctx, n.Name, n.Spec); err != nil {
			t.Fatalf("creating network %s: %v", n.Name, err)
		}
	}
	secretIDs, configIDs := map[string]string{}, map[string]string{}
	for _, o := range d.Secrets {
		r, err := cli.SecretCreate(ctx, o.SecretSpec())
		if err != nil {
			t.Fatalf("creating secret %s: %v", o.Name, err)
		}
		secretIDs[o.Name] = r.ID
	}
	for _, o := range d.Configs {
		r, err := cli.ConfigCreate(ctx, o.ConfigSpec())
		if err != nil {
			t.Fatalf("creating config %s: %v", o.Name, err)
		}
		configIDs[o.Name] = r.ID
	}
	for _, s := range d.Services {
		spec, err := s.Resolve(secretIDs, configIDs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
			t.Fatalf("creating service %s: %v", spec.Name, err)
		}
	}
	return secretIDs
}

// loadProject loads compose as project name, with env for interpolation.
func loadProject(t *testing.T, name, env, compose string) *types.Project {
	t.Helper()
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: name, Env: []string{env}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Project
}

// runningOn waits until n tasks of service run and returns their nodes' IDs.
func runningOn(t *testing.T, cli *client.Client, service string, n int) []string {
	t.Helper()
	var nodes []string
	poll(t, 2*time.Minute, fmt.Sprintf("%d running tasks of %s", n, service), func() bool {
		tasks, err := cli.TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service), filters.Arg("desired-state", "running"))})
		if err != nil {
			t.Fatal(err)
		}
		nodes = nodes[:0]
		for _, task := range tasks {
			if task.Status.State == swarm.TaskStateRunning {
				nodes = append(nodes, task.NodeID)
			}
			if task.Status.Err != "" {
				t.Logf("%s task on %s: %s", service, task.NodeID, task.Status.Err)
			}
		}
		return len(nodes) == n
	})
	return nodes
}

// taskContainer is the ID of the container of a running task of service on
// the node c talks to.
func taskContainer(t *testing.T, c *client.Client, service string) string {
	t.Helper()
	list, err := c.ContainerList(t.Context(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service))})
	if err != nil || len(list) == 0 {
		t.Fatalf("no container of %s on that node: %v", service, err)
	}
	return list[0].ID
}

// poll calls ok every 200ms until it is true, failing the test after limit.
func poll(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %v", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func httpGet(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
