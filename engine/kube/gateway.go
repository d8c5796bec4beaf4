package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
	"github.com/stack-deploy/stack/manifest"
)

// The gateway on Kubernetes is the Caddy of the other drivers, run as a
// Deployment, its config (package gateway's, as on Docker) in a ConfigMap
// and its published ports a NodePort (or LoadBalancer) Service, all named
// GatewayName. Each route's upstream is its service's Service, by name
// (the config dials web:8080): kube-proxy sends a connection only to a pod
// that is ready and not terminating, so a service's rollout needs no
// reload of the gateway, and its config changes only with the routes
// (Caddy never passes over a Service's name: gateway.Options.Balanced). The
// pod template carries the config's hash: a route changed rolls the
// gateway, a new pod ready before the old one stops.
const (
	// GatewayName names the gateway's Deployment, ConfigMap and Service,
	// and its pods' prefix; a compose service of that name is refused.
	GatewayName = "stack-gateway"
	// LabelGateway marks the gateway's objects and pods.
	LabelGateway = "io.stack.gateway"
	// AnnotationGatewayRoutes is the hash of the routes the gateway's pods
	// run with (engine.GatewaySpec's RoutesHash), on its pod template;
	// AnnotationGatewayConfig the sha256 of their Caddy config.
	AnnotationGatewayRoutes = "io.stack.gateway-routes"
	AnnotationGatewayConfig = "io.stack.gateway-config"
	// gatewayConfigDir is where the ConfigMap is mounted, with the config
	// under gatewayConfigKey.
	gatewayConfigDir = "/etc/stack-gateway"
	gatewayConfigKey = "caddy.json"
	// drainSeconds is how long a routed pod (and a gateway pod) that is
	// stopping goes on serving (a preStop sleep) before its SIGTERM: time
	// for its endpoint's removal to reach kube-proxy (whose iptables sync
	// waits at least a second) and for connections under way to end.
	drainSeconds = 5
)

// Gateway is what the project's gateway becomes.
type Gateway struct {
	ConfigMap  *corev1ac.ConfigMapApplyConfiguration
	Service    *corev1ac.ServiceApplyConfiguration
	Deployment *appsv1ac.DeploymentApplyConfiguration
	// Hash is engine's hash of the gateway's spec (image, ports), which
	// the plan compares; RoutesHash that of its routes.
	Hash, RoutesHash string
}

// objects are the gateway's objects in the order to apply them.
func (g *Gateway) objects() []any {
	if g.Service == nil {
		return []any{g.ConfigMap, g.Deployment}
	}
	return []any{g.ConfigMap, g.Service, g.Deployment}
}

// gatewayLabels are the labels of the gateway's objects; its pods are
// selected by the first two.
func (m *mapper) gatewayLabels() map[string]string {
	l := m.labels("")
	l[LabelGateway] = "true"
	l[LabelName] = GatewayName
	return l
}

func (m *mapper) gatewaySelector() map[string]string {
	return map[string]string{engine.LabelProject: m.p.Name, LabelGateway: "true"}
}

// gateway maps x-stack.gateway; nil when the project has none.
func (m *mapper) gateway() *Gateway {
	g := m.p.Stack.Gateway
	if g == nil {
		return nil
	}
	if _, taken := m.p.Project.Services[GatewayName]; taken {
		m.fail(GatewayName, "", ErrInvalidName, fmt.Sprintf("the gateway's objects are named %s on Kubernetes", GatewayName), "rename the service")
		return nil
	}
	spec, routesHash, err := engine.DesiredGateway(m.p)
	if err != nil {
		m.fail("", manifest.ExtensionKey+".gateway", ErrInvalid, err.Error(), "correct the gateway or its routes")
		return nil
	}
	hash, err := engine.ResourceHash(spec)
	if err != nil {
		m.fail("", manifest.ExtensionKey+".gateway", ErrInvalid, err.Error(), "correct the gateway")
		return nil
	}
	// Every service by its Service's name: what the routes (and a forward
	// auth) reach.
	upstreams := map[string][]string{}
	for _, name := range m.p.ServiceNames() {
		upstreams[name] = []string{name}
	}
	cfg, err := gateway.ConfigWith(g, m.p.GatewayRoutes(), upstreams, gateway.Options{Balanced: true})
	if err != nil {
		m.fail("", manifest.ExtensionKey+".gateway", ErrInvalid, err.Error(), "correct the gateway's ports")
		return nil
	}
	if g.TLS != nil {
		m.warnGateway("tls", "the certificates live in the gateway's pod (an emptyDir): a new pod obtains or makes them again, and `stack gateway ca` reads only Docker's")
	}
	sum := sha256.Sum256(cfg)
	out := &Gateway{Hash: hash, RoutesHash: routesHash}
	out.ConfigMap = corev1ac.ConfigMap(GatewayName, m.ns).WithLabels(m.gatewayLabels()).WithData(map[string]string{gatewayConfigKey: string(cfg)})
	ports := m.gatewayPorts(spec.Ports)
	svcSpec, n := m.publishedSpec(ports, portsAt{
		field: func(i int) string { return fmt.Sprintf("%s.gateway.ports[%d]", manifest.ExtensionKey, i) },
		warn:  m.warnGateway,
		fail: func(field, problem, fix string) {
			m.fail("", field, ErrPublishedPort, problem, fix)
		},
		owner: "the gateway",
	})
	if n > 0 {
		out.Service = corev1ac.Service(GatewayName, m.ns).WithLabels(m.gatewayLabels()).WithSpec(svcSpec.WithSelector(m.gatewaySelector()))
	}
	annotations := map[string]string{engine.LabelConfigHash: hash, AnnotationGatewayRoutes: routesHash, AnnotationGatewayConfig: hex.EncodeToString(sum[:])}
	tmpl := corev1ac.PodTemplateSpec().WithLabels(m.gatewayLabels()).WithAnnotations(annotations).WithSpec(m.gatewayPod(spec.Image, ports))
	one := intstr.FromInt32(1)
	none := intstr.FromInt32(0)
	out.Deployment = appsv1ac.Deployment(GatewayName, m.ns).WithLabels(m.gatewayLabels()).WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(1).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(m.gatewaySelector())).
		WithStrategy(appsv1ac.DeploymentStrategy().WithType("RollingUpdate").
			WithRollingUpdate(appsv1ac.RollingUpdateDeployment().WithMaxSurge(one).WithMaxUnavailable(none))).
		WithTemplate(tmpl))
	return out
}

// gatewayPorts parses the gateway's ports (its own and its metrics'), as
// the loader has validated them.
func (m *mapper) gatewayPorts(specs []string) []types.ServicePortConfig {
	var out []types.ServicePortConfig
	for _, s := range specs {
		pcs, err := types.ParsePortConfig(s)
		if err != nil {
			continue // refused when loading
		}
		out = append(out, pcs...)
	}
	return out
}

// gatewayPod runs Caddy on the config from the ConfigMap, ready once it
// listens on its first port, draining before it stops as a routed pod
// does.
func (m *mapper) gatewayPod(image string, ports []types.ServicePortConfig) *corev1ac.PodSpecApplyConfiguration {
	c := corev1ac.Container().WithName("caddy").WithImage(image).
		WithCommand("caddy", "run", "--config", gatewayConfigDir+"/"+gatewayConfigKey).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("config").WithMountPath(gatewayConfigDir).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("data").WithMountPath("/data"),
			corev1ac.VolumeMount().WithName("caddy-config").WithMountPath("/config")).
		WithLifecycle(corev1ac.Lifecycle().WithPreStop(corev1ac.LifecycleHandler().WithSleep(corev1ac.SleepAction().WithSeconds(drainSeconds))))
	seen := map[port]bool{}
	for _, p := range ports {
		cp := port{int32(p.Target), protocol(p.Protocol)}
		if !seen[cp] {
			seen[cp] = true
			c.WithPorts(corev1ac.ContainerPort().WithContainerPort(cp.port).WithProtocol(cp.protocol))
		}
	}
	if len(ports) > 0 {
		c.WithReadinessProbe(corev1ac.Probe().WithPeriodSeconds(1).WithFailureThreshold(3).
			WithTCPSocket(corev1ac.TCPSocketAction().WithPort(intstr.FromInt32(int32(ports[0].Target)))))
	}
	// Caddy resolves each service's name when it dials: A and AAAA asked
	// one after the other on a fresh socket, and a lost answer asked again
	// after 1s rather than 5s, as conntrack can drop one of two parallel
	// queries through the cluster DNS's Service address.
	dns := corev1ac.PodDNSConfig().WithOptions(
		corev1ac.PodDNSConfigOption().WithName("single-request-reopen"),
		corev1ac.PodDNSConfigOption().WithName("timeout").WithValue("1"))
	return corev1ac.PodSpec().WithContainers(c).WithDNSConfig(dns).WithVolumes(
		corev1ac.Volume().WithName("config").WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(GatewayName)),
		corev1ac.Volume().WithName("data").WithEmptyDir(corev1ac.EmptyDirVolumeSource()),
		memoryDir("caddy-config", 0))
}

// warnGateway records that a field of x-stack.gateway is not honoured as
// written, and why.
func (m *mapper) warnGateway(field, why string) {
	m.warnings[engine.GatewayResource] = append(m.warnings[engine.GatewayResource], fmt.Sprintf("%s: %s", field, why))
}

// routePorts are the ports the gateway sends service's requests to (its
// routes', and those of forward auths that ask it): ports its Service
// must serve.
func (m *mapper) routePorts(service string) []int32 {
	if m.p.Stack.Gateway == nil {
		return nil
	}
	var out []int32
	for _, r := range m.p.GatewayRoutes() {
		if r.Service == service && r.Port > 0 {
			out = append(out, int32(r.Port))
		}
		if a := r.Auth; a != nil && a.Forward != nil && a.Forward.Service == service && a.Forward.Port > 0 {
			out = append(out, int32(a.Forward.Port))
		}
	}
	return out
}

// drain keeps a pod the gateway sends requests to serving for
// drainSeconds after it is told to stop (a preStop sleep, which needs no
// shell in the image), within its stop_grace_period: kube-proxy has then
// taken it out of its Service, and the gateway's new requests go to the
// others. Without it a rollout's old pod could get a request after its
// SIGTERM.
func (m *mapper) drain(s types.ServiceConfig, c *corev1ac.ContainerApplyConfiguration) {
	if len(m.routePorts(s.Name)) == 0 || m.jobs[s.Name] {
		return
	}
	sleep := int64(drainSeconds)
	if s.StopGracePeriod != nil {
		if grace := seconds(s.StopGracePeriod); grace-1 < sleep {
			sleep = grace - 1
		}
	}
	if sleep < 1 {
		m.warn(s.Name, "stop_grace_period", "too short for the pod to drain ("+strconv.Itoa(drainSeconds)+"s) before it stops: the gateway may send it a request it cannot answer")
		return
	}
	c.WithLifecycle(corev1ac.Lifecycle().WithPreStop(corev1ac.LifecycleHandler().WithSleep(corev1ac.SleepAction().WithSeconds(sleep))))
}
