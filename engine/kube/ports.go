package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/manifest"
)

// The NodePort range of a cluster's default --service-node-port-range.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

// port is a container port.
type port struct {
	port     int32
	protocol corev1.Protocol
}

// appProtocols are the app_protocol of the service's ports entries, by
// target port and protocol.
func appProtocols(s types.ServiceConfig) map[port]string {
	out := map[port]string{}
	for _, p := range s.Ports {
		if p.AppProtocol != "" {
			out[port{int32(p.Target), protocol(p.Protocol)}] = p.AppProtocol
		}
	}
	return out
}

// containerPorts are the ports the service declares (expose entries, ranges
// expanded, ports targets, and the TCP ports of extra: its routes'), each
// once, sorted by number then protocol.
func containerPorts(s types.ServiceConfig, extra ...int32) []port {
	seen := map[port]bool{}
	var out []port
	add := func(n int64, proto string) {
		p := port{int32(n), protocol(proto)}
		if n > 0 && n <= 65535 && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, e := range s.Expose {
		spec, proto, _ := strings.Cut(e, "/")
		lo, hi, isRange := strings.Cut(spec, "-")
		from, err := strconv.ParseInt(lo, 10, 32)
		if err != nil {
			continue
		}
		to := from
		if isRange {
			if to, err = strconv.ParseInt(hi, 10, 32); err != nil {
				continue
			}
		}
		for n := from; n <= to && n-from < 1024; n++ {
			add(n, proto)
		}
	}
	for _, p := range s.Ports {
		add(int64(p.Target), p.Protocol)
	}
	for _, n := range extra {
		add(int64(n), "tcp")
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].port != out[j].port {
			return out[i].port < out[j].port
		}
		return out[i].protocol < out[j].protocol
	})
	return out
}

func protocol(p string) corev1.Protocol {
	switch strings.ToLower(p) {
	case "udp":
		return corev1.ProtocolUDP
	case "sctp":
		return corev1.ProtocolSCTP
	}
	return corev1.ProtocolTCP
}

// services maps the service's ports. Its Service, named like it so that its
// name resolves through cluster DNS as on a compose network, is ClusterIP
// over its declared ports, or headless (no cluster IP, no ports: the name
// resolves to the pods, whatever port the image listens on) when it
// declares none or asks for endpoint_mode: dnsrr. Published ports get a
// Service of their own, <name>-published: NodePort, each published port
// the NodePort of that number, or LoadBalancer when the environment says
// expose: loadbalancer.
func (m *mapper) services(s types.ServiceConfig) (svc, published *corev1ac.ServiceApplyConfiguration) {
	ports := containerPorts(s, m.routePorts(s.Name)...)
	spec := corev1ac.ServiceSpec().WithSelector(m.selector(s.Name))
	dnsrr := s.Deploy != nil && s.Deploy.EndpointMode == "dnsrr"
	if len(ports) == 0 || dnsrr {
		spec.WithClusterIP(corev1.ClusterIPNone)
	} else {
		spec.WithType(corev1.ServiceTypeClusterIP)
	}
	app := appProtocols(s)
	for _, p := range ports {
		sp := corev1ac.ServicePort().WithName(portName(string(p.protocol), p.port)).
			WithProtocol(p.protocol).WithPort(p.port).WithTargetPort(intstr.FromInt32(p.port))
		if app[p] != "" {
			sp.WithAppProtocol(app[p])
		}
		spec.WithPorts(sp)
	}
	svc = corev1ac.Service(s.Name, m.ns).WithLabels(m.labels(s.Name)).WithSpec(spec)
	return svc, m.published(s)
}

// published maps the published ports, or returns nil when there are none.
func (m *mapper) published(s types.ServiceConfig) *corev1ac.ServiceApplyConfiguration {
	at := portsAt{
		field: func(i int) string { return fmt.Sprintf("ports[%d]", i) },
		warn:  func(field, why string) { m.warn(s.Name, field, why) },
		fail: func(field, problem, fix string) {
			m.fail(s.Name, field, ErrPublishedPort, problem, fix)
		},
		owner: "service " + strconv.Quote(s.Name),
	}
	spec, n := m.publishedSpec(s.Ports, at)
	if n == 0 {
		return nil
	}
	spec.WithSelector(m.selector(s.Name))
	name := s.Name + publishedSuffix
	if len(name) > maxLabel {
		m.fail(s.Name, "ports", ErrInvalidName, fmt.Sprintf("the Service of its published ports, %q, is longer than 63 characters", name), "shorten the service's name")
		return nil
	}
	return corev1ac.Service(name, m.ns).WithLabels(m.labels(s.Name)).WithSpec(spec)
}

// portsAt says where published ports are written, for warnings and errors:
// a service's ports or the gateway's.
type portsAt struct {
	field func(i int) string
	warn  func(field, why string)
	fail  func(field, problem, fix string)
	// owner names who publishes, in an error about a NodePort taken twice.
	owner string
}

// publishedSpec maps published ports to a NodePort (or, with expose:
// loadbalancer, a LoadBalancer) Service's spec, and counts them.
func (m *mapper) publishedSpec(ports []types.ServicePortConfig, at portsAt) (*corev1ac.ServiceSpecApplyConfiguration, int) {
	lb := m.opts.Expose == manifest.ExposeLoadBalancer
	spec := corev1ac.ServiceSpec().WithType(corev1.ServiceTypeNodePort)
	if lb {
		spec.WithType(corev1.ServiceTypeLoadBalancer)
	}
	n := 0
	for i, p := range ports {
		field := at.field(i)
		if p.HostIP != "" && p.HostIP != "0.0.0.0" && p.HostIP != "::" {
			at.warn(field+".host_ip", "a Service listens on every address of the nodes (or of its load balancer)")
		}
		if p.Mode == "host" {
			at.warn(field+".mode", "published through a Service, not on the node that runs the pod")
		}
		proto := protocol(p.Protocol)
		if p.Published == "" {
			// compose publishes it on a port the engine picks: here the
			// cluster picks the NodePort, or the load balancer listens on
			// the target port.
			spec.WithPorts(corev1ac.ServicePort().WithName(portName(string(proto), int32(p.Target))).WithProtocol(proto).
				WithPort(int32(p.Target)).WithTargetPort(intstr.FromInt32(int32(p.Target))))
			n++
			continue
		}
		num, err := strconv.ParseInt(p.Published, 10, 32)
		if err != nil {
			at.fail(field, fmt.Sprintf("published port %q is not one number", p.Published), "publish one port per entry")
			continue
		}
		sp := corev1ac.ServicePort().WithName(portName(string(proto), int32(num))).WithProtocol(proto).
			WithPort(int32(num)).WithTargetPort(intstr.FromInt32(int32(p.Target)))
		if p.AppProtocol != "" {
			sp.WithAppProtocol(p.AppProtocol)
		}
		switch {
		case lb:
		case num >= NodePortMin && num <= NodePortMax:
			key := fmt.Sprintf("%d/%s", num, proto)
			if other, taken := m.nodePorts[key]; taken {
				at.fail(field, fmt.Sprintf("NodePort %s is also published by %s, and a node port serves one Service", key, other),
					"publish it on another port of 30000-32767")
				continue
			}
			m.nodePorts[key] = at.owner
			sp.WithNodePort(int32(num))
		default:
			at.fail(field,
				fmt.Sprintf("published port %d is outside the NodePort range %d-%d, where a cluster's nodes can serve it", num, NodePortMin, NodePortMax),
				fmt.Sprintf(`publish it in that range (e.g. "%d:%d"), or serve it through a load balancer with expose: loadbalancer in the environment`, NodePortMin+int(num)%1000, p.Target))
			continue
		}
		spec.WithPorts(sp)
		n++
	}
	return spec, n
}
