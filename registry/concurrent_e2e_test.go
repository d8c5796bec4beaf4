package registry_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stack-deploy/stack/internal/e2e"
)

// Intent: two CI jobs sharing one engine release the same project to
// staging at the same time, with different build args. Each lock pins the
// image its own build produced, and each release tag in the registry points
// at its own lock's digests. The engine has one name for both builds
// (<registry>/shop/web:latest), so pushing by that name would push
// whichever build finished last.
//
// Model: two checkouts of one project: web built FROM busybox with build
// args VARIANT and ROUND, which its Dockerfile writes into labels; worker
// runs web's image (image: x next to web's build + image: x); cache is
// busybox:stable, pulled. Staging is a loopback registry.
//
// Steps, 5 rounds n = 1..5:
//
//	VARIANT=a ROUND=n release --env staging --tag a<n> (checkout A), and
//	100 ms later VARIANT=b ROUND=n release --env staging --tag b<n> (checkout B)
//	-> both exit 0
//	-> lock a<n>'s web and worker images, read from the registry, are
//	   labelled variant=a round=n; b<n>'s variant=b round=n
//	-> every <registry>/shop/<service>:a<n> is lock a<n>'s digest; likewise b<n>
//	-> the engine keeps no <registry>/shop/<service>:a<n> or :b<n> name
func TestConcurrentReleasesLockTheirOwnBuilds(t *testing.T) {
	e2e.Engine(t)
	staging := e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	files := map[string]string{
		"compose.yaml": `name: ` + project + `
services:
  web:
    image: ` + project + `-web
    build:
      context: ./web
      args:
        VARIANT: ${VARIANT:?}
        ROUND: ${ROUND:?}
  worker:
    image: ` + project + `-web
  cache:
    image: busybox:stable
x-stack:
  environments:
    staging:
      registry: ` + staging.Host + `/shop
`,
		"web/Dockerfile": "FROM busybox:stable\nARG VARIANT\nARG ROUND\nLABEL variant=$VARIANT round=$ROUND\nRUN echo \"$VARIANT $ROUND\" > /variant\n",
	}
	checkouts := map[string]string{"a": t.TempDir(), "b": t.TempDir()}
	for _, dir := range checkouts {
		e2e.WriteFiles(t, dir, files)
	}
	config := e2e.DockerConfig(t, staging)
	e2e.Binary(t) // built once, before the two runs race

	for round := 1; round <= 5; round++ {
		results := map[string]e2e.Result{}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for i, variant := range []string{"a", "b"} {
			if i > 0 {
				// The stagger between the two CI jobs is the scenario, not
				// a wait for anything.
				time.Sleep(100 * time.Millisecond)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := e2e.Cmd{Dir: checkouts[variant], Env: []string{
					"DOCKER_CONFIG=" + config, "VARIANT=" + variant, fmt.Sprintf("ROUND=%d", round),
				}}
				r := cmd.Run(t, "release", "--env", "staging", "--tag", fmt.Sprintf("%s%d", variant, round))
				mu.Lock()
				results[variant] = r
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, variant := range []string{"a", "b"} {
			tag := fmt.Sprintf("%s%d", variant, round)
			r := results[variant]
			if r.Code != 0 {
				t.Errorf("round %d: release %s: exit %d\n%s", round, tag, r.Code, r.Stderr)
				continue
			}
			l := lockAt(t, r.Stdout)
			for svc, si := range l.Services {
				d, err := si.Digest()
				if err != nil {
					t.Fatal(err)
				}
				if got := e2e.RegistryDigest(t, staging.Ref("shop/"+svc+":"+tag)); got != d {
					t.Errorf("round %d: %s:%s in the registry is %s, lock %s says %s", round, svc, tag, got, tag, d)
				}
				if svc == "cache" {
					continue
				}
				labels := registryLabels(t, si.Image)
				if labels["variant"] != variant || labels["round"] != fmt.Sprint(round) {
					t.Errorf("round %d: lock %s pins %s to %s, an image labelled variant=%s round=%s: not its own build (variant=%s round=%d)",
						round, tag, svc, si.Image, labels["variant"], labels["round"], variant, round)
				}
			}
			for _, svc := range []string{"web", "worker", "cache"} {
				if id := e2e.Docker(t, "images", "-q", staging.Ref("shop/"+svc+":"+tag)); id != "" {
					t.Errorf("round %d: the engine still names %s %s after the release", round, id, staging.Ref("shop/"+svc+":"+tag))
				}
			}
		}
	}
}

// registryLabels reads the labels of an image's config from the registry.
func registryLabels(t *testing.T, ref string) map[string]string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, e2e.RegistryAuth)
	if err != nil {
		t.Fatalf("reading %s from the registry: %v", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("reading the config of %s from the registry: %v", ref, err)
	}
	return cfg.Config.Labels
}
