package engine

import (
	"context"
	"time"
)

// StatsReader reads containers' resource usage (`stack stats`).
type StatsReader interface {
	// Stats calls sample with the figures of each running service
	// container of project (not one-offs) of the services o names (all
	// when none), and with All a sample of nothing used for each stopped
	// one. With Stream it follows every container through one
	// stream each from the engine (a sample about every second), takes in
	// the containers that start meanwhile and says when one stops (a
	// Sample with Gone), until ctx is cancelled; without, it gives one
	// sample of each and returns. Calls to sample never overlap.
	Stats(ctx context.Context, project string, o StatsOptions, sample func(Sample)) error
}

// StatsOptions are `stack stats`' flags.
type StatsOptions struct {
	Services []string
	Stream   bool
	// Interval is how often a stream reads each container, where the
	// engine lets the reader choose (0: every second, as docker stats).
	Interval time.Duration
	// All includes the stopped containers, each with one sample of
	// nothing used.
	All bool
}

// Sample is one reading of one container's resource usage.
type Sample struct {
	Container Container
	// Time is when the engine read it.
	Time time.Time
	// CPUPercent is the CPU the container used since the previous reading,
	// in percent of one CPU, as `docker stats` shows it: 150 is one and a
	// half CPUs busy.
	CPUPercent float64
	// CPUs is how many CPUs the machine has online.
	CPUs int
	// CPULimit is how many CPUs the container may use (cpus:, cpu_quota);
	// 0 when it has no limit.
	CPULimit float64
	// MemoryUsage is the memory it uses, without the page cache it could
	// give back, as `docker stats` counts it.
	MemoryUsage uint64
	// MemoryLimit is its memory limit (mem_limit:, deploy.resources), or the
	// machine's memory when it has none (MemoryLimited false).
	MemoryLimit   uint64
	MemoryLimited bool
	// Network and block I/O since the container started, in bytes.
	NetRx, NetTx          uint64
	BlockRead, BlockWrite uint64
	PIDs                  uint64
	// Node is the cluster node the container runs on; empty on one
	// engine.
	Node string
	// Gone marks the end of a container's samples: it stopped or was
	// removed. Only the Container and Time of such a sample are set.
	Gone bool
}

// CPUOfMachine is the CPU used in percent of the whole machine (100: every
// CPU busy).
func (s Sample) CPUOfMachine() float64 {
	if s.CPUs <= 0 {
		return 0
	}
	return s.CPUPercent / float64(s.CPUs)
}

// CPUOfLimit is the CPU used in percent of what the container may use: its
// CPU limit, or the machine when it has none.
func (s Sample) CPUOfLimit() float64 {
	if s.CPULimit <= 0 {
		return s.CPUOfMachine()
	}
	return s.CPUPercent / s.CPULimit
}

// MemoryPercent is the memory used in percent of the limit.
func (s Sample) MemoryPercent() float64 {
	if s.MemoryLimit == 0 {
		return 0
	}
	return float64(s.MemoryUsage) / float64(s.MemoryLimit) * 100
}
