package docker

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/stack-deploy/stack/engine"
)

// reading is the part of the engine's stats response (container.StatsResponse)
// that a Sample is made of. Decoding only it spares stack the rest of the
// response: the memory statistics' map of some thirty counters, the block
// I/O tables other than bytes, the storage and throttling figures.
type reading struct {
	Read        time.Time  `json:"read"`
	CPUStats    cpuReading `json:"cpu_stats"`
	PreCPUStats cpuReading `json:"precpu_stats"`
	MemoryStats struct {
		Usage uint64 `json:"usage"`
		Limit uint64 `json:"limit"`
		Stats struct {
			TotalInactiveFile *uint64 `json:"total_inactive_file"` // cgroup v1
			InactiveFile      *uint64 `json:"inactive_file"`       // cgroup v2
		} `json:"stats"`
	} `json:"memory_stats"`
	PidsStats struct {
		Current uint64 `json:"current"`
	} `json:"pids_stats"`
	Networks   map[string]netReading `json:"networks"`
	BlkioStats struct {
		IoServiceBytesRecursive []blockReading `json:"io_service_bytes_recursive"`
	} `json:"blkio_stats"`
}

// netReading is one network interface's bytes received and sent.
type netReading struct {
	RxBytes uint64 `json:"rx_bytes"`
	TxBytes uint64 `json:"tx_bytes"`
}

// blockReading is the bytes one block device read or wrote (Op).
type blockReading struct {
	Op    string `json:"op"`
	Value uint64 `json:"value"`
}

// cpuReading is a container's CPU time and the machine's, in nanoseconds.
type cpuReading struct {
	CPUUsage struct {
		TotalUsage  uint64   `json:"total_usage"`
		PercpuUsage []uint64 `json:"percpu_usage"`
	} `json:"cpu_usage"`
	SystemUsage uint64 `json:"system_cpu_usage"`
	OnlineCPUs  uint32 `json:"online_cpus"`
}

// decodeReading reads one reading from a stats response body.
func decodeReading(dec *json.Decoder, c engine.Container) (reading, error) {
	var v reading
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return v, err
		}
		return v, fmt.Errorf("reading the resource usage of container %q: %w", c.Name, err)
	}
	return v, nil
}

// sampleOf computes a Sample from the engine's reading v, as `docker stats`
// does: CPU from the change since the previous reading, memory without the
// inactive page cache.
func sampleOf(c engine.Container, lim limits, v reading) engine.Sample {
	s := engine.Sample{
		Container:     c,
		Time:          v.Read,
		CPUs:          int(v.CPUStats.OnlineCPUs),
		CPULimit:      lim.cpus,
		MemoryLimit:   v.MemoryStats.Limit,
		MemoryLimited: lim.memory,
		PIDs:          v.PidsStats.Current,
	}
	if s.CPUs == 0 {
		s.CPUs = len(v.CPUStats.CPUUsage.PercpuUsage)
	}
	// The first reading of a stream has no previous one to compare with.
	if v.PreCPUStats.SystemUsage > 0 {
		cpu := float64(v.CPUStats.CPUUsage.TotalUsage) - float64(v.PreCPUStats.CPUUsage.TotalUsage)
		system := float64(v.CPUStats.SystemUsage) - float64(v.PreCPUStats.SystemUsage)
		if cpu > 0 && system > 0 {
			s.CPUPercent = cpu / system * float64(s.CPUs) * 100
		}
	}
	s.MemoryUsage = v.MemoryStats.Usage
	inactive := v.MemoryStats.Stats.TotalInactiveFile
	if inactive == nil {
		inactive = v.MemoryStats.Stats.InactiveFile
	}
	if inactive != nil && *inactive < s.MemoryUsage {
		s.MemoryUsage -= *inactive
	}
	for _, n := range v.Networks {
		s.NetRx += n.RxBytes
		s.NetTx += n.TxBytes
	}
	for _, b := range v.BlkioStats.IoServiceBytesRecursive {
		switch b.Op {
		case "read", "Read":
			s.BlockRead += b.Value
		case "write", "Write":
			s.BlockWrite += b.Value
		}
	}
	return s
}
