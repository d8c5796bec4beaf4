package docker_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/contracttest"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// The Docker driver passes the driver contract on the real engine.
func TestDriverContract(t *testing.T) {
	e2e.Engine(t)
	c, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := docker.New(docker.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, contracttest.Harness{
		Driver:  d,
		Image:   "busybox:stable",
		Project: func(t *testing.T) string { return e2e.ProjectName(t) },
		Images: func(t *testing.T, p *manifest.Project) engine.Images {
			images := engine.Images{}
			for _, name := range p.ServiceNames() {
				ins, err := c.ImageInspect(t.Context(), p.ImageName(name))
				if err != nil {
					t.Fatal(err)
				}
				images[name] = engine.Image{ID: ins.ID}
			}
			return images
		},
		Running: func(t *testing.T, project, service string) int {
			out := e2e.Docker(t, "ps", "-q", "--filter", "label="+e2e.Label+"="+project, "--filter", "label=io.stack.service="+service)
			return len(strings.Fields(out))
		},
		Drift: func(t *testing.T, project string) {
			e2e.Docker(t, "network", "disconnect", project+"_default", project+"-web-1")
		},
	})
}
