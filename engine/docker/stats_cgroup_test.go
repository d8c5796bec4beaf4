//go:build linux

package docker

import (
	"testing"

	"github.com/opencontainers/cgroups"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/e2e"
)

// A container's figures from the kernel's files, cgroup v1 (this
// machine's, which the e2e test also reads) and v2 (which the e2e test
// cannot: this machine has none), as the engine reports them: memory
// without the inactive page cache, no limit as the machine's memory, the
// bytes read and written, 0 for a controller not mounted.
func TestCgroupReaderReadsTheKernelsFiles(t *testing.T) {
	type figures struct{ Memory, Limit, PIDs, Read, Written uint64 }
	cgroups.TestMode = true // files outside cgroupfs
	t.Cleanup(func() { cgroups.TestMode = false })
	machineMemory := machine().memory

	v1 := &cgroupReader{dirs: map[string]string{
		"cpuacct": e2e.Tree(t, map[string]string{"cpuacct.usage": "2500000000\n"}),
		"memory": e2e.Tree(t, map[string]string{
			"memory.usage_in_bytes": "10485760\n",
			"memory.limit_in_bytes": "67108864\n",
			"memory.stat":           "cache 2097152\nrss 8388608\ninactive_file 4096\ntotal_cache 2097152\ntotal_inactive_file 1048576\n",
		}),
		// A kernel without CFQ (5.0 and later) has only the throttling
		// layer's figures.
		"blkio": e2e.Tree(t, map[string]string{
			"blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n",
		}),
	}}
	v2 := &cgroupReader{v2: true, dirs: map[string]string{"": e2e.Tree(t, map[string]string{
		"cpu.stat":       "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n",
		"memory.current": "10485760\n",
		"memory.max":     "max\n",
		"memory.stat":    "anon 8388608\nfile 2097152\nactive_file 1048576\ninactive_file 1048576\n",
		"pids.current":   "3\n",
		"io.stat":        "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:0 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
	})}}
	for _, tc := range []struct {
		name string
		r    *cgroupReader
		want figures
	}{
		{"v1", v1, figures{Memory: 9 << 20, Limit: 64 << 20, Read: 4096, Written: 8192}},
		{"v2", v2, figures{Memory: 9 << 20, Limit: machineMemory, PIDs: 3, Read: 4196, Written: 8192}},
	} {
		v, err := tc.r.read()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v.CPUStats.CPUUsage.TotalUsage != 2500000000 {
			t.Errorf("%s: CPU time %d ns, want 2.5 s", tc.name, v.CPUStats.CPUUsage.TotalUsage)
		}
		s := sampleOf(engine.Container{}, limits{}, v)
		got := figures{s.MemoryUsage, s.MemoryLimit, s.PIDs, s.BlockRead, s.BlockWrite}
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}

	// A missing file of a controller that must be there is an error, not
	// a reading of nothing.
	v2.dirs[""] = e2e.Tree(t, map[string]string{"cpu.stat": "usage_usec 1\n"})
	if _, err := v2.read(); err == nil {
		t.Error("a v2 group without memory files read without error")
	}
}
