package e2e

import (
	"os"
	"strings"
)

// EngineSocket is the path of the unix socket of the engine the tests
// drive: DOCKER_HOST's when it names one (the engine-29 pass of
// scripts/test-engines.sh), else the main engine's. Tests that put a proxy
// in front of the engine dial it.
func EngineSocket() string {
	if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok && h != "" {
		return h
	}
	return "/var/run/docker.sock"
}
