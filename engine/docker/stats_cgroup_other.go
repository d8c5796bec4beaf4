//go:build !linux

package docker

import (
	"context"
	"errors"
	"time"
)

// cgroupsHere is whether this machine has cgroups (Linux) in which a
// local engine's containers can be read.
const cgroupsHere = false

// cgroupReader reads a container's cgroup: never off Linux.
type cgroupReader struct{}

func openCgroup(string, int, bool) (*cgroupReader, error) {
	return nil, errors.New("no cgroups off Linux")
}

func (*cgroupReader) read() (reading, error) { return reading{}, errors.New("no cgroups off Linux") }

func (*cgroupReader) readOver(context.Context, time.Duration) (reading, error) {
	return reading{}, errors.New("no cgroups off Linux")
}
