// Command registry stands in for the registry:2 image where it cannot be
// pulled: scripts/standin-images.sh builds it into an image under that tag.
// It is go-containerregistry's registry on :5000, like the real image, with
// blobs on disk under /var/lib/registry (manifests live in memory, so a
// restarted container starts empty) and no authentication. The image
// adds busybox, so a healthcheck can use wget as with the real one.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	const dir = "/var/lib/registry"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
	srv := &http.Server{
		Addr:              ":5000",
		Handler:           registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(dir))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Println("registry: listening on :5000")
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}
