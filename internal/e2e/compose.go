package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// Compose returns the command of the reference Docker Compose the tests and
// benchmarks compare with: $COMPOSE (a docker-compose binary), else the
// docker CLI's compose plugin, which `make tools` installs
// (scripts/compose.sh). Its absence fails the test: it is part of the set-up.
func Compose(tb testing.TB) []string {
	tb.Helper()
	if c := os.Getenv("COMPOSE"); c != "" {
		return []string{c}
	}
	out, err := exec.Command("docker", "compose", "version").CombinedOutput()
	if err != nil {
		tb.Fatalf("no Docker Compose to compare with: run `make tools` (scripts/compose.sh installs the plugin), or set COMPOSE to a docker-compose binary: %v\n%s", err, out)
	}
	return []string{"docker", "compose"}
}
