package kube

import (
	"context"
	"errors"
	"maps"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// gatewayImageService is the name under which the gateway's image is
// resolved like a service's: pushed to the environment's registry as
// <registry>/stack-gateway, from the local engine's copy of its image,
// and pinned by digest. No service can have it (gateway refuses it).
const gatewayImageService = GatewayName

// gatewayState is the observed gateway in the terms of engine's plan: its
// spec's hash and routes' hash from its pod template, running while it
// asks for a pod.
func (c *Cluster) gatewayState() *engine.Gateway {
	w := c.Gateway
	if w == nil {
		return nil
	}
	state := "running"
	if w.Replicas == 0 {
		state = "scaled to 0"
	}
	return &engine.Gateway{
		Container:  engine.Container{Name: w.Name, Hash: w.Hash, State: state},
		RoutesHash: w.Routes,
	}
}

// gateway plans the gateway's action: its objects applied, then its
// rollout waited for (a create, a change of its image or ports, of its
// routes, or a start); or deleted and waited gone.
func (b *opBuilder) gateway(a *engine.Action) error {
	ns := b.cluster.Namespace
	if a.Kind == engine.Remove {
		var objs []Object
		for _, o := range b.cluster.Objects {
			if o.Gateway {
				objs = append(objs, o)
			}
		}
		b.deleteAndWait(a, Delete{Namespace: ns, Objects: objs}, "", "gateway", "", nil)
		return nil
	}
	objs, err := b.desired()
	if err != nil {
		return err
	}
	g := objs.Gateway
	if g == nil {
		return errors.New("the gateway: not in the mapped objects")
	}
	apply := append([]any{objs.Namespace, applySetParent(b.plan.Project, ns)}, g.objects()...)
	id := b.add(a, &engine.Op{Kind: OpApply, Target: target(Deployment, GatewayName), Detail: "server-side, field manager " + FieldManager,
		Payload: Apply{Objects: apply}}, "")
	b.add(a, &engine.Op{Kind: engine.OpWait, Target: target(Deployment, GatewayName), Condition: engine.Started, Detail: "until rolled out",
		Payload: Rollout{Project: b.plan.Project, Namespace: ns, Kind: Deployment, Name: GatewayName, Hash: g.Hash,
			Selector: engine.LabelProject + "=" + b.plan.Project + "," + LabelGateway + "=true"}}, id)
	return nil
}

// resolveGateway makes the gateway's image one the nodes pull by digest,
// as a service's: with an environment registry, its image (caddy:2) is
// copied there from the local engine as <registry>/stack-gateway, and p's
// gateway runs it by digest. Without a registry, or in a dry run that
// would copy it, the image stays as named.
func (d *Driver) resolveGateway(ctx context.Context, p *manifest.Project, o image.EnsureOptions) error {
	g := p.Stack.Gateway
	if g == nil || p.Env == nil || p.Env.Registry == "" {
		return nil
	}
	source := g.Image
	if source == "" {
		source = manifest.DefaultGatewayImage
	}
	ref, err := manifest.EnvironmentImage(p.Env.Registry, gatewayImageService, source)
	if err != nil {
		return err
	}
	// A copy of p with the gateway as one more service, which Resolve pins.
	cp := *p.Project
	cp.Services = maps.Clone(p.Project.Services)
	svc := cp.Services[gatewayImageService]
	svc.Name, svc.Image = gatewayImageService, ref
	cp.Services[gatewayImageService] = svc
	env := *p.Env
	env.SourceImages = maps.Clone(p.Env.SourceImages)
	env.SourceImages[gatewayImageService] = source
	withGateway := *p
	withGateway.Project, withGateway.Env = &cp, &env
	refs, err := d.images.Resolve(ctx, &withGateway, []string{gatewayImageService}, image.EnsureOptions{DryRun: o.DryRun, Pull: o.Pull})
	if err != nil {
		return err
	}
	if refs[gatewayImageService] != "" {
		pinned := *g
		pinned.Image = refs[gatewayImageService]
		p.Stack.Gateway = &pinned
	}
	return nil
}
