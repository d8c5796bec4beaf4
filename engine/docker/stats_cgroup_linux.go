//go:build linux

package docker

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// cgroupsHere is whether this machine has cgroups (Linux) in which a
// local engine's containers can be read.
const cgroupsHere = true

// cgroupReader reads one container's usage where the engine itself reads
// it, when the engine runs on this machine: the container's cgroup (CPU
// time, memory, block I/O, processes) through containerd's cgroups
// library, and its network namespace's counters (/proc/PID/net/dev). The
// engine's own collection goes through containerd and the container's
// shim for the same files, a few milliseconds of its CPU per container
// and reading; these reads cost stack tens of microseconds.
type cgroupReader struct {
	v1  cgroup1.Cgroup
	v2  *cgroup2.Manager
	net *procfs.Proc // nil: the host's network, which docker stats does not count
}

// openCgroup opens the cgroup of container id, whose main process is pid
// as its engine sees it. It fails when that process is not the container's
// on this machine: the engine runs elsewhere (another machine, a virtual
// machine, another PID namespace), or the container stopped.
func openCgroup(id string, pid int, hostNetwork bool) (*cgroupReader, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("container %s has no process", id)
	}
	// The process's cgroup names the container (/docker/ID,
	// docker-ID.scope, …) only when it is the container's.
	mine, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(mine), id) {
		return nil, fmt.Errorf("process %d is not container %s's on this machine", pid, id)
	}
	r := &cgroupReader{}
	if cgroups.Mode() == cgroups.Unified {
		group, err := cgroup2.PidGroupPath(pid)
		if err != nil {
			return nil, err
		}
		if r.v2, err = cgroup2.Load(group); err != nil {
			return nil, err
		}
	} else {
		subsystems, err := statsSubsystems()
		if err != nil {
			return nil, err
		}
		r.v1, err = cgroup1.Load(cgroup1.PidPath(pid), cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) { return subsystems, nil }))
		if err != nil {
			return nil, err
		}
	}
	if !hostNetwork {
		p, err := procfs.NewProc(pid)
		if err != nil {
			return nil, err
		}
		r.net = &p
	}
	// What this user may not read (a container's network counters, to
	// one who is not root on some kernels) is read through the engine.
	if _, err := r.read(); err != nil {
		return nil, err
	}
	return r, nil
}

// statsSubsystems are the cgroup v1 controllers a reading needs, of those
// this machine mounts (read once: the mounts' table).
var statsSubsystems = sync.OnceValues(func() ([]cgroup1.Subsystem, error) {
	all, err := cgroup1.Default()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s cgroup1.Subsystem) bool {
		return !slices.Contains([]cgroup1.Name{cgroup1.Cpuacct, cgroup1.Memory, cgroup1.Blkio, cgroup1.Pids}, s.Name())
	}), nil
})

// machine is what the engine reports beside a container's figures: its
// online CPUs and its memory (a container's limit when it has none).
var machine = sync.OnceValue(func() (m struct {
	cpus   uint32
	memory uint64
}) {
	m.cpus = uint32(runtime.NumCPU())
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		m.memory = uint64(si.Totalram) * uint64(si.Unit)
	}
	return m
})

// epoch is where the machine's CPU time of a reading is counted from.
var epoch = time.Now()

// read is the container's usage now, in the engine's form: its CPU time
// beside the machine's (the wall-clock time since epoch on every CPU, so
// that CPU% is the container's CPU time over the time between readings,
// as the engine's system time makes it), its memory and the page cache it
// could give back, its processes, block and network I/O.
func (r *cgroupReader) read() (reading, error) {
	var v reading
	v.Read = time.Now()
	m := machine()
	v.CPUStats.OnlineCPUs = m.cpus
	v.CPUStats.SystemUsage = uint64(v.Read.Sub(epoch).Nanoseconds()) * uint64(m.cpus)
	if r.v2 != nil {
		s, err := r.v2.StatFiltered(cgroup2.StatCPU | cgroup2.StatMemory | cgroup2.StatIO | cgroup2.StatPids)
		if err != nil {
			return v, err
		}
		if s.CPU != nil {
			v.CPUStats.CPUUsage.TotalUsage = s.CPU.UsageUsec * 1000
		}
		if s.Memory != nil {
			v.MemoryStats.Usage, v.MemoryStats.Limit = s.Memory.Usage, s.Memory.UsageLimit
			v.MemoryStats.Stats.InactiveFile = &s.Memory.InactiveFile
		}
		if s.Pids != nil {
			v.PidsStats.Current = s.Pids.Current
		}
		if s.Io != nil {
			for _, e := range s.Io.Usage {
				v.BlkioStats.IoServiceBytesRecursive = append(v.BlkioStats.IoServiceBytesRecursive,
					blockReading{"read", e.Rbytes}, blockReading{"write", e.Wbytes})
			}
		}
	} else {
		s, err := r.v1.Stat(cgroup1.IgnoreNotExist)
		if err != nil {
			return v, err
		}
		if s.CPU != nil && s.CPU.Usage != nil {
			v.CPUStats.CPUUsage.TotalUsage = s.CPU.Usage.Total
		}
		if s.Memory != nil {
			if s.Memory.Usage != nil {
				v.MemoryStats.Usage, v.MemoryStats.Limit = s.Memory.Usage.Usage, s.Memory.Usage.Limit
			}
			v.MemoryStats.Stats.TotalInactiveFile = &s.Memory.TotalInactiveFile
		}
		if s.Pids != nil {
			v.PidsStats.Current = s.Pids.Current
		}
		if s.Blkio != nil {
			for _, e := range s.Blkio.IoServiceBytesRecursive {
				v.BlkioStats.IoServiceBytesRecursive = append(v.BlkioStats.IoServiceBytesRecursive, blockReading{e.Op, e.Value})
			}
		}
	}
	// No limit reads as the kernel's largest figure; the engine says the
	// machine's memory.
	if m.memory > 0 && v.MemoryStats.Limit > m.memory {
		v.MemoryStats.Limit = m.memory
	}
	if r.net != nil {
		dev, err := r.net.NetDev()
		if err != nil {
			return v, err
		}
		v.Networks = map[string]netReading{}
		for name, l := range dev {
			if name != "lo" { // the engine counts the container's endpoints
				v.Networks[name] = netReading{l.RxBytes, l.TxBytes}
			}
		}
	}
	return v, nil
}
