package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine/kube"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// formatKubernetes is config's --format for the Kubernetes objects.
const formatKubernetes = "kubernetes"

// configTarget is the engine config asks which ports images EXPOSE: the
// environment's, or none (nil) for an environment of a Kubernetes cluster,
// which has no Docker engine to ask.
func (g *Globals) configTarget(p *manifest.Project) (*deploy.Target, error) {
	orchestrator := g.Orchestrator
	if orchestrator == "" && p.Env != nil {
		orchestrator = p.Env.Orchestrator
	}
	if orchestrator == manifest.OrchestratorKubernetes {
		return nil, nil
	}
	return g.target(p)
}

// printKubernetes prints the Kubernetes objects of p (engine/kube) as
// multi-document YAML, and the mapping's warnings on stderr. No cluster and
// no engine is asked anything: the addresses are injected without the
// ports images EXPOSE (a service that declares no port gets a headless
// Service, which serves whatever port its pods listen on), and images are
// as the project names them.
func (g *Globals) printKubernetes(ctx context.Context, p *manifest.Project, inject bool) error {
	if inject {
		if _, err := deploy.Inject(progress.WithSink(ctx, g.newRenderer()), nil, p); err != nil {
			return err
		}
	}
	objs, warnings, err := kube.Map(p, kube.Options{})
	if err != nil {
		return err
	}
	resources := make([]string, 0, len(warnings))
	for r := range warnings {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	for _, r := range resources {
		for _, w := range warnings[r] {
			fmt.Fprintf(g.Stderr, "stack: warning: %s: %s\n", r, w)
		}
	}
	b, err := objs.YAML()
	if err != nil {
		return err
	}
	_, err = g.Stdout.Write(b)
	return err
}
