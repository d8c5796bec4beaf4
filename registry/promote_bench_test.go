package registry_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
	base := randomLayer(b, benchBaseSize)
	l := newLock("staging", "v1")
	for i := range benchImages {
		layers := []v1.Layer{base}
		for range benchOwnLayers {
			layers = append(layers, randomLayer(b, benchLayerSize))
		}
		pushImage(b, staging, l, fmt.Sprintf("svc%d", i), layers...)
	}
	return l
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
			// the next iteration pulls again
			staging.RemoveImages(b)
			prod.RemoveImages(b)
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
