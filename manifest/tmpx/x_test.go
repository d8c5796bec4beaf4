package tmpx

import (
	"os"
	"testing"

	"github.com/stack-deploy/stack/manifest"
)

func BenchmarkLoadDir(b *testing.B) {
	dir := os.Getenv("DIR")
	for b.Loop() {
		if _, err := manifest.Load(b.Context(), manifest.Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}}); err != nil {
			b.Fatal(err)
		}
	}
}
