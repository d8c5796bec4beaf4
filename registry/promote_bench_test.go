package registry_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

// Image shape of the benchmark: five services sharing a base layer, each
// with two layers of its own: 10 MiB an image, 26 MiB of distinct blobs.
// Random bytes do not compress, so what crosses the wire is this size.
const (
	benchImages    = 5
	benchBaseSize  = 6 << 20
	benchLayerSize = 2 << 20
	benchOwnLayers = 2
)

// seedBenchRelease pushes the benchmark's images to staging and returns
// their lock.
func seedBenchRelease(b *testing.B, staging *e2e.Registry) *registry.Lock {
	b.Helper()
	base, err := random.Layer(benchBaseSize, types.DockerLayer)
	if err != nil {
		b.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: e2e.RegistryUser, Password: e2e.RegistryPassword})
	l := &registry.Lock{
		Version: registry.LockVersion, Project: "bench", Environment: "staging", Tag: "v1",
		Created:  time.Now().UTC().Truncate(time.Second),
		Manifest: registry.ManifestHash{Hash: "sha256:bench"},
		Services: map[string]registry.ServiceImage{},
	}
	for i := range benchImages {
		layers := []v1.Layer{base}
		for range benchOwnLayers {
			ly, err := random.Layer(benchLayerSize, types.DockerLayer)
			if err != nil {
				b.Fatal(err)
			}
			layers = append(layers, ly)
		}
		img, err := mutate.AppendLayers(empty.Image, layers...)
		if err != nil {
			b.Fatal(err)
		}
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{
			OS: "linux", Architecture: "amd64",
			RootFS: v1.RootFS{Type: "layers", DiffIDs: diffIDs(b, layers)},
			Config: v1.Config{Cmd: []string{"/app"}},
		})
		if err != nil {
			b.Fatal(err)
		}
		svc := fmt.Sprintf("svc%d", i)
		ref, err := name.NewTag(staging.Ref("shop/" + svc + ":v1"))
		if err != nil {
			b.Fatal(err)
		}
		if err := remote.Write(ref, img, auth); err != nil {
			b.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			b.Fatal(err)
		}
		l.Services[svc] = registry.ServiceImage{Image: ref.Context().Digest(d.String()).String(), Source: "build"}
	}
	return l
}

func diffIDs(b *testing.B, layers []v1.Layer) []v1.Hash {
	b.Helper()
	out := make([]v1.Hash, 0, len(layers))
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// BenchmarkPromote moves one release of five images from staging to an
// empty prod, registry to registry (stack promote) and through the Docker
// engine (docker pull, tag, push: what a CI job without stack does), then
// promotes again into a prod that has everything. It prints the time of
// each route, their ratio, and the blob bytes prod received.
//
//	go test -run '^$' -bench BenchmarkPromote -benchtime 3x ./registry/
func BenchmarkPromote(b *testing.B) {
	e2e.Engine(b)
	staging := e2e.StartRegistry(b)
	lock := seedBenchRelease(b, staging)
	var mu sync.Mutex
	perOp := map[string]time.Duration{}
	record := func(route string, b *testing.B) {
		mu.Lock()
		defer mu.Unlock()
		perOp[route] = b.Elapsed() / time.Duration(b.N)
	}

	b.Run("registry", func(b *testing.B) {
		var bytesIn int64
		for b.Loop() {
			b.StopTimer()
			prod := e2e.StartRegistry(b)
			b.Setenv("DOCKER_CONFIG", e2e.DockerConfig(b, staging, prod))
			pr, err := registry.NewPromoter()
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := pr.Promote(b.Context(), lock, registry.Target{Environment: "prod", Registry: prod.Host + "/shop"}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			bytesIn += prod.Stats().BlobBytesIn
			prod.Stop()
			b.StartTimer()
		}
		b.ReportMetric(float64(bytesIn)/float64(b.N)/(1<<20), "MiB-sent/op")
		record("registry", b)
	})

	b.Run("registry-again", func(b *testing.B) {
		prod := e2e.StartRegistry(b)
		b.Setenv("DOCKER_CONFIG", e2e.DockerConfig(b, staging, prod))
		pr, err := registry.NewPromoter()
		if err != nil {
			b.Fatal(err)
		}
		to := registry.Target{Environment: "prod", Registry: prod.Host + "/shop"}
		if _, err := pr.Promote(b.Context(), lock, to); err != nil {
			b.Fatal(err)
		}
		prod.Reset()
		for b.Loop() {
			if _, err := pr.Promote(b.Context(), lock, to); err != nil {
				b.Fatal(err)
			}
		}
		s := prod.Stats()
		b.ReportMetric(float64(s.BlobBytesIn)/float64(b.N), "B-sent/op")
		b.ReportMetric(float64(s.Requests)/float64(b.N), "requests/op")
		record("registry-again", b)
	})

	b.Run("daemon", func(b *testing.B) {
		var bytesIn int64
		for b.Loop() {
			b.StopTimer()
			prod := e2e.StartRegistry(b)
			prod.RemoveImagesAtCleanup(b)
			cfg := e2e.DockerConfig(b, staging, prod)
			b.StartTimer()
			var wg sync.WaitGroup
			errs := make([]error, benchImages)
			i := 0
			for svc, si := range lock.Services {
				wg.Add(1)
				go func(i int, svc, src string) {
					defer wg.Done()
					dst := prod.Ref("shop/" + svc + ":v1")
					for _, args := range [][]string{{"pull", "-q", src}, {"tag", src, dst}, {"push", "-q", dst}} {
						if out, err := exec.Command("docker", append([]string{"--config", cfg}, args...)...).CombinedOutput(); err != nil {
							errs[i] = fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
							return
						}
					}
				}(i, svc, si.Image)
				i++
			}
			wg.Wait()
			b.StopTimer()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			bytesIn += prod.Stats().BlobBytesIn
			removeDaemonImages(b, staging, prod)
			prod.Stop()
			b.StartTimer()
		}
		b.ReportMetric(float64(bytesIn)/float64(b.N)/(1<<20), "MiB-sent/op")
		record("daemon", b)
	})
	staging.RemoveImagesAtCleanup(b)

	mu.Lock()
	defer mu.Unlock()
	if reg, dmn := perOp["registry"], perOp["daemon"]; reg > 0 && dmn > 0 {
		// Printed, not logged: go test shows a parent benchmark's log only with -v.
		fmt.Printf("BenchmarkPromote: promote 5 images (%d MiB each): registry to registry %v, through the engine %v: %.1fx faster; again into a prod that has them: %v\n",
			(benchBaseSize+benchOwnLayers*benchLayerSize)>>20, reg.Round(time.Millisecond), dmn.Round(time.Millisecond), float64(dmn)/float64(reg), perOp["registry-again"].Round(time.Microsecond))
	}
}

// removeDaemonImages removes what the daemon route pulled and tagged, so
// that the next iteration pulls again.
func removeDaemonImages(b *testing.B, regs ...*e2e.Registry) {
	b.Helper()
	out := e2e.Docker(b, "images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}")
	var refs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		for _, r := range regs {
			if !strings.HasPrefix(f[0], r.Host+"/") {
				continue
			}
			if f[1] != "<none>" {
				refs = append(refs, f[0]+":"+f[1])
			}
			if f[2] != "<none>" {
				refs = append(refs, f[0]+"@"+f[2])
			}
		}
	}
	if len(refs) > 0 {
		if out, err := exec.Command("docker", append([]string{"rmi", "-f"}, refs...)...).CombinedOutput(); err != nil {
			b.Logf("removing %v: %v\n%s", refs, err, out)
		}
	}
}
