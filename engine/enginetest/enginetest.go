// Package enginetest holds what the tests of the engine and of its drivers
// share: an inline compose file loaded as a project, the observed state
// `up` leaves for one, and the contract every driver must pass (contract.go).
//
// It is for tests only: nothing outside _test.go files imports it.
package enginetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Load loads an inline compose file as project name (the compose file's own
// name: wins when it sets one).
func Load(t testing.TB, name, yaml string) *manifest.Project {
	t.Helper()
	return LoadEnv(t, name, yaml, "")
}

// LoadEnv loads an inline compose file as project name for the
// environment env of its x-stack.environments ("": none).
func LoadEnv(t testing.TB, name, yaml, env string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: name, Env: []string{}, Environment: env})
	if err != nil {
		t.Fatalf("loading:\n%s\n%v", yaml, err)
	}
	return p
}

// Deployed is what an engine holds after `up` of p with images: every
// service's replicas running (healthy where it has a healthcheck) with the
// hash it was created from, on its networks; every network and volume with
// the hash of its definition.
func Deployed(t testing.TB, p *manifest.Project, images engine.Images) *engine.Observed {
	t.Helper()
	obs := &engine.Observed{}
	for _, name := range p.ServiceNames() {
		s := p.Project.Services[name]
		h, err := engine.ConfigHash(p.Project, s, images[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		n := s.GetScale()
		st := engine.ServiceState{Name: name, Replicas: n, Running: n}
		if n > 0 {
			st.Versions = []engine.Version{{Hash: h.Sum, Parts: h.PartsLabel(), Count: n}}
		}
		for _, key := range engine.ServiceNetworks(s) {
			st.Networks = append(st.Networks, p.Project.Networks[key].Name, key+"-id")
		}
		for _, v := range engine.ServiceVolumes(p.Project, s) {
			st.Volumes = append(st.Volumes, p.Project.Volumes[v].Name)
		}
		obs.Services = append(obs.Services, st)
	}
	for k, cfg := range p.Project.Networks {
		h, err := engine.ResourceHash(cfg)
		if err != nil {
			t.Fatal(err)
		}
		obs.Networks = append(obs.Networks, engine.Resource{Key: k, Name: cfg.Name, ID: k + "-id", Hash: h})
	}
	for k, cfg := range p.Project.Volumes {
		h, err := engine.ResourceHash(cfg)
		if err != nil {
			t.Fatal(err)
		}
		obs.Volumes = append(obs.Volumes, engine.Resource{Key: k, Name: cfg.Name, Hash: h})
	}
	return obs
}

// Containers are the containers a Docker engine holds after `up` of p
// with images (Deployed's replicas as the Docker driver names them), for
// the tests of a driver that keeps containers.
func Containers(t testing.TB, p *manifest.Project, images engine.Images) []engine.Container {
	t.Helper()
	var out []engine.Container
	for _, name := range p.ServiceNames() {
		s := p.Project.Services[name]
		h, err := engine.ConfigHash(p.Project, s, images[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= s.GetScale(); n++ {
			networks := map[string]engine.Endpoint{}
			for _, key := range engine.ServiceNetworks(s) {
				networks[p.Project.Networks[key].Name] = engine.Endpoint{NetworkID: key + "-id", Aliases: []string{name}}
			}
			var volumes []string
			for _, v := range engine.ServiceVolumes(p.Project, s) {
				volumes = append(volumes, p.Project.Volumes[v].Name)
			}
			c := engine.Container{
				ID: fmt.Sprintf("%s-%d-id", name, n), Name: fmt.Sprintf("%s-%s-%d", p.Name, name, n), Service: name, Number: n,
				Hash: h.Sum, Parts: h.PartsLabel(), State: "running", Networks: networks, Volumes: volumes,
			}
			if s.HealthCheck != nil && !s.HealthCheck.Disable {
				c.Health = "healthy"
			}
			out = append(out, c)
		}
	}
	return out
}
