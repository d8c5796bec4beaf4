package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestAppUnitTests runs `go vet` and `go test` inside each example's module.
// Pure tests (httptest, fakes): they run under -short too.
func TestAppUnitTests(t *testing.T) {
	for _, name := range []string{"kvstore", "pizza", "cli", "release"} {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = filepath.Join(e2e.Root(), "examples", name)
				cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("go %v in examples/%s: %v\n%s", args, name, err, out)
				}
			}
		})
	}
}
