//go:build linux

package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// cgroupsHere is whether this machine has cgroups (Linux) in which a
// local engine's containers can be read.
const cgroupsHere = true

// cgroupReader reads one container's usage where the engine itself reads
// it, when the engine runs on this machine: the container's cgroup (CPU
// time, memory, block I/O, processes) and its network namespace's counters
// (/proc/PID/net/dev). The engine's own collection goes through containerd
// and the container's shim for the same files, a few milliseconds of its
// CPU per container and reading.
//
// It finds the cgroup with runc's cgroups library and reads the seven files
// docker stats' figures come from with its helpers, rather than taking a
// library's whole statistics: containerd's cgroups library's Stat reads
// some thirty files for the same figures (every memory counter, the block
// devices' table), 0.6 ms a container on this machine, which made watching
// 30 containers every second cost stack 2% of the machine.
type cgroupReader struct {
	v2 bool
	// dirs are the cgroup's directories by v1 controller (cpuacct,
	// memory, blkio, pids); on v2, the group's one directory under "".
	dirs map[string]string
	net  *procfs.Proc // nil: the host's network, which docker stats does not count
}

// unifiedMountpoint is where cgroup v2 is mounted, as runc's fs2 has it
// (cgroups.IsCgroup2UnifiedMode checks that it is).
const unifiedMountpoint = "/sys/fs/cgroup"

// v1Controllers are the cgroup v1 controllers a reading needs.
var v1Controllers = []string{"cpuacct", "memory", "blkio", "pids"}

// openCgroup opens the cgroup of container id, whose main process is pid
// as its engine sees it. It fails when that process is not the container's
// on this machine (the engine runs elsewhere: another machine, a virtual
// machine, another PID namespace), when the container stopped, or when
// this user may not read its figures.
func openCgroup(id string, pid int, hostNetwork bool) (*cgroupReader, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("container %s has no process", id)
	}
	paths, err := cgroups.ParseCgroupFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	// The process's cgroup names the container (/docker/ID,
	// docker-ID.scope, …) only when it is the container's.
	mine := func(p string) error {
		if !strings.Contains(p, id) {
			return fmt.Errorf("process %d is not container %s's on this machine (cgroup %q)", pid, id, p)
		}
		return nil
	}
	r := &cgroupReader{v2: cgroups.IsCgroup2UnifiedMode(), dirs: map[string]string{}}
	if r.v2 {
		if err := mine(paths[""]); err != nil {
			return nil, err
		}
		r.dirs[""] = filepath.Join(unifiedMountpoint, paths[""])
	} else {
		for _, c := range v1Controllers {
			p, ok := paths[c]
			if !ok && (c == "blkio" || c == "pids") {
				continue // not mounted here: its figures read as 0
			}
			if err := mine(p); err != nil {
				return nil, err
			}
			mount, root, err := cgroups.FindCgroupMountpointAndRoot("", c)
			if err != nil {
				return nil, err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return nil, err
			}
			r.dirs[c] = filepath.Join(mount, rel)
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
	var inactive uint64
	var err error
	if r.v2 {
		err = r.readV2(&v, &inactive)
		v.MemoryStats.Stats.InactiveFile = &inactive
	} else {
		err = r.readV1(&v, &inactive)
		v.MemoryStats.Stats.TotalInactiveFile = &inactive
	}
	if err != nil {
		return v, err
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

// readOver reads the container twice, window apart, so that the second
// reading's CPU figure is its use over the window.
func (r *cgroupReader) readOver(ctx context.Context, window time.Duration) (reading, error) {
	first, err := r.read()
	if err != nil {
		return first, err
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return first, ctx.Err()
	}
	v, err := r.read()
	v.PreCPUStats = first.CPUStats
	return v, err
}

// readV1 reads the figures of a cgroup v1 hierarchy: those of blkio or
// pids, when not mounted here, are 0.
func (r *cgroupReader) readV1(v *reading, inactive *uint64) error {
	var errs []error
	param := func(c, file string, into *uint64) {
		if d := r.dirs[c]; d != "" {
			var err error
			*into, err = fscommon.GetCgroupParamUint(d, file)
			errs = append(errs, err)
		}
	}
	param("cpuacct", "cpuacct.usage", &v.CPUStats.CPUUsage.TotalUsage)
	param("memory", "memory.usage_in_bytes", &v.MemoryStats.Usage)
	param("memory", "memory.limit_in_bytes", &v.MemoryStats.Limit)
	param("pids", "pids.current", &v.PidsStats.Current)
	if d := r.dirs["memory"]; d != "" {
		var err error
		*inactive, err = fscommon.GetValueByKey(d, "memory.stat", "total_inactive_file")
		errs = append(errs, err)
	}
	if d := r.dirs["blkio"]; d != "" {
		// The CFQ scheduler's figures where the kernel has it (as the
		// engine reads them), the throttling layer's, which counts every
		// request, where not (kernels from 5.0).
		data, err := cgroups.ReadFile(d, "blkio.io_service_bytes_recursive")
		if errors.Is(err, os.ErrNotExist) {
			data, err = cgroups.ReadFile(d, "blkio.throttle.io_service_bytes_recursive")
		}
		errs = append(errs, err)
		for line := range strings.SplitSeq(data, "\n") {
			// MAJOR:MINOR Op bytes
			if f := strings.Fields(line); len(f) == 3 {
				n, err := fscommon.ParseUint(f[2], 10, 64)
				errs = append(errs, err)
				v.BlkioStats.IoServiceBytesRecursive = append(v.BlkioStats.IoServiceBytesRecursive, blockReading{f[1], n})
			}
		}
	}
	return errors.Join(errs...)
}

// readV2 reads the figures of a cgroup v2 group: those of a controller not
// enabled for it (pids, io) are 0.
func (r *cgroupReader) readV2(v *reading, inactive *uint64) error {
	d := r.dirs[""]
	var errs []error
	optional := func(err error) {
		if !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	usec, err := fscommon.GetValueByKey(d, "cpu.stat", "usage_usec")
	errs = append(errs, err)
	v.CPUStats.CPUUsage.TotalUsage = usec * 1000
	v.MemoryStats.Usage, err = fscommon.GetCgroupParamUint(d, "memory.current")
	errs = append(errs, err)
	v.MemoryStats.Limit, err = fscommon.GetCgroupParamUint(d, "memory.max")
	errs = append(errs, err)
	*inactive, err = fscommon.GetValueByKey(d, "memory.stat", "inactive_file")
	errs = append(errs, err)
	v.PidsStats.Current, err = fscommon.GetCgroupParamUint(d, "pids.current")
	optional(err)
	data, err := cgroups.ReadFile(d, "io.stat")
	optional(err)
	for line := range strings.SplitSeq(data, "\n") {
		// MAJOR:MINOR rbytes=N wbytes=N rios=N …
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, kv := range f[1:] {
			k, val, _ := strings.Cut(kv, "=")
			var op string
			switch k {
			case "rbytes":
				op = "read"
			case "wbytes":
				op = "write"
			default:
				continue
			}
			n, err := fscommon.ParseUint(val, 10, 64)
			errs = append(errs, err)
			v.BlkioStats.IoServiceBytesRecursive = append(v.BlkioStats.IoServiceBytesRecursive, blockReading{op, n})
		}
	}
	return errors.Join(errs...)
}
