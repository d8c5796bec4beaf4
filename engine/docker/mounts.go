package docker

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"
)

// anonymous matches the generated names of anonymous volumes.
var anonymous = regexp.MustCompile(`^[0-9a-f]{64}$`)

// uncovered returns the mounts of keep whose target the host config does not
// mount already.
func uncovered(host *container.HostConfig, keep []mount.Mount) []mount.Mount {
	taken := map[string]bool{}
	for _, m := range host.Mounts {
		taken[m.Target] = true
	}
	for _, b := range host.Binds {
		if parts := strings.Split(b, ":"); len(parts) >= 2 {
			taken[parts[1]] = true
		}
	}
	for t := range host.Tmpfs {
		taken[t] = true
	}
	var out []mount.Mount
	for _, m := range keep {
		if !taken[m.Target] {
			out = append(out, m)
		}
	}
	return out
}

// LastLogs returns the last n lines a container wrote to stdout and stderr,
// indented for an error message; empty when there are none or they cannot
// be read.
func LastLogs(ctx context.Context, c Client, id string, n int) string {
	rc, err := c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n)})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil && out.Len() == 0 {
		return ""
	}
	text := strings.TrimRight(out.String(), "\n")
	if text == "" {
		return ""
	}
	return "\n    | " + strings.ReplaceAll(text, "\n", "\n    | ")
}
