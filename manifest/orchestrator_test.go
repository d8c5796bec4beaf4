package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvironmentOrchestrator: an environment names its orchestrator
// (swarm, docker, or none: docker); any other name is refused naming the
// field, before anything reaches an engine.
func TestEnvironmentOrchestrator(t *testing.T) {
	const compose = `
name: shop
services:
  web: {image: busybox:stable}
x-stack:
  environments:
    cluster: {registry: 127.0.0.1:5000/shop, host: "unix:///run/manager.sock", orchestrator: swarm}
    single: {orchestrator: docker}
    plain: {}
    cluster2: {orchestrator: kubernetes, context: prod, namespace: shop, expose: loadbalancer}
    bogus: {orchestrator: nomad}
`
	dir := writeProject(t, map[string]string{"compose.yaml": compose})
	load := func(env string) (*Project, error) {
		return Load(t.Context(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: env})
	}
	for env, want := range map[string]string{"cluster": OrchestratorSwarm, "single": OrchestratorDocker, "plain": "", "cluster2": OrchestratorKubernetes} {
		p, err := load(env)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if p.Env.Orchestrator != want {
			t.Errorf("%s: orchestrator %q, want %q", env, p.Env.Orchestrator, want)
		}
	}
	_, err := load("bogus")
	if !errors.Is(err, ErrInvalidEnvironment) {
		t.Fatalf("bogus: %v, want ErrInvalidEnvironment", err)
	}
	for _, s := range []string{"compose.yaml", "x-stack.environments.bogus.orchestrator", `"nomad"`, "swarm", "kubernetes"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}
