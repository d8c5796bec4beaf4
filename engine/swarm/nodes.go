package swarm

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dockerclient"
)

// NodeHostsEnv names the variable that says where each node's own engine
// answers, for what a manager cannot do (a task container's resource
// usage): comma-separated NODE=HOST entries, NODE a node's hostname or ID,
// HOST a DOCKER_HOST (unix://, tcp://, ssh://); the entry "*" is for every
// other node, its HOST a template in which {hostname} and {addr} (the
// node's address as the Swarm knows it) are replaced:
//
//	STACK_SWARM_NODE_HOSTS='*=ssh://admin@{addr}'
//	STACK_SWARM_NODE_HOSTS='node1=unix:///run/node1.sock,node2=tcp://10.0.0.2:2376'
//
// The manager's own node needs no entry: it is reached as the manager is.
const NodeHostsEnv = "STACK_SWARM_NODE_HOSTS"

// nodePing bounds how long a node's engine has to answer before it is
// said to be unreachable.
const nodePing = 3 * time.Second

// ParseNodeHosts reads NodeHostsEnv's value.
func ParseNodeHosts(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		node, host, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(node) == "" || strings.TrimSpace(host) == "" {
			return nil, fmt.Errorf("%s: entry %q: write NODE=HOST (HOST a DOCKER_HOST such as ssh://user@{addr}), entries separated by commas", NodeHostsEnv, entry)
		}
		out[strings.TrimSpace(node)] = strings.TrimSpace(host)
	}
	return out, nil
}

// WithNodeHosts says where nodes' engines answer (NodeHostsEnv's form, as
// a map). Default: read from NodeHostsEnv.
func WithNodeHosts(hosts map[string]string) Option {
	return func(d *Driver) { d.nodeHosts = hosts }
}

// nodeHostsFromEnv is the default of WithNodeHosts; a value that cannot be
// read is reported when a node's engine is needed.
func (d *Driver) nodeHostsFromEnv() {
	if d.nodeHosts != nil {
		return
	}
	d.nodeHosts, d.nodeHostsErr = ParseNodeHosts(os.Getenv(NodeHostsEnv))
}

// nodeHost is where node's engine answers, "" when nothing says.
func (d *Driver) nodeHost(n swarm.Node) string {
	for _, key := range []string{n.Description.Hostname, n.ID} {
		if h, ok := d.nodeHosts[key]; ok && key != "" {
			return h
		}
	}
	if tmpl, ok := d.nodeHosts["*"]; ok {
		return strings.NewReplacer("{hostname}", n.Description.Hostname, "{addr}", n.Status.Addr).Replace(tmpl)
	}
	return ""
}

// nodeEngine is one node's own engine, as a driver of that engine.
type nodeEngine struct {
	node   swarm.Node
	name   string // its hostname
	driver engine.StatsReader
	close  func()
}

// nodeEngines connects to the engines of nodes (those Ready, by ID): the
// manager's own through the manager's client, the others where
// NodeHostsEnv says. It returns the ones that answer and, by hostname, why
// each other cannot be reached.
func (d *Driver) nodeEngines(ctx context.Context, nodes map[string]swarm.Node) ([]nodeEngine, map[string]string) {
	self := ""
	if info, err := d.client.Info(ctx); err == nil {
		self = info.Swarm.NodeID
	}
	var out []nodeEngine
	unreachable := map[string]string{}
	ids := make([]string, 0, len(nodes))
	for id := range nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := nodes[id]
		name := n.Description.Hostname
		if id == self && d.nodeStats != nil {
			if st, err := d.nodeStats(d.client); err == nil {
				out = append(out, nodeEngine{node: n, name: name, driver: st, close: func() {}})
				continue
			}
		}
		ne, why := d.dialNode(ctx, n)
		if why != "" {
			unreachable[name] = why
			continue
		}
		out = append(out, ne)
	}
	return out, unreachable
}

// dialNode connects to a node's engine where NodeHostsEnv says, or says
// why it cannot.
func (d *Driver) dialNode(ctx context.Context, n swarm.Node) (nodeEngine, string) {
	if d.nodeHostsErr != nil {
		return nodeEngine{}, d.nodeHostsErr.Error()
	}
	if d.nodeStats == nil {
		return nodeEngine{}, "this stack cannot read a node's own engine"
	}
	host := d.nodeHost(n)
	if host == "" {
		return nodeEngine{}, fmt.Sprintf("no address for its engine: set %s (NODE=HOST, or *=ssh://user@{addr})", NodeHostsEnv)
	}
	c, err := dockerclient.NewForHost(host)
	if err != nil {
		return nodeEngine{}, fmt.Sprintf("connecting to its engine at %s: %v", host, err)
	}
	pctx, cancel := context.WithTimeout(ctx, nodePing)
	defer cancel()
	if _, err := c.Ping(pctx); err != nil {
		_ = c.Close()
		return nodeEngine{}, fmt.Sprintf("its engine at %s does not answer: %v", host, err)
	}
	st, err := d.nodeStats(c)
	if err != nil {
		_ = c.Close()
		return nodeEngine{}, err.Error()
	}
	return nodeEngine{node: n, name: n.Description.Hostname, driver: st, close: func() { _ = c.Close() }}, ""
}
