package manifest

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkSelfReference reports a service that names itself where it must name
// another service. compose-go turns network_mode: service:X (and ipc, pid,
// uts, cgroup, links, volumes_from) into a dependency on X, so a service
// that names itself there would otherwise be reported as the dependency
// cycle `a -> a`, which says nothing of the setting at fault. checkCycles
// leaves these self-dependencies out.
func (c *checker) checkSelfReference(name string, s types.ServiceConfig) {
	if _, self := s.DependsOn[name]; !self {
		return
	}
	self := types.ServicePrefix + name
	namespaces := []struct{ field, value, what string }{
		{"network_mode", s.NetworkMode, "network"},
		{"ipc", s.Ipc, "IPC"},
		{"pid", s.Pid, "PID"},
		{"uts", s.Uts, "UTS"},
		{"cgroup", s.Cgroup, "cgroup"},
	}
	for _, ns := range namespaces {
		if ns.value == self {
			c.addSelf(name, ns.field, fmt.Sprintf("%s: a service cannot share its own %s namespace", ns.value, ns.what),
				fmt.Sprintf("name another service (%s: service:OTHER), or remove %s", ns.field, ns.field))
			return
		}
	}
	for _, l := range s.Links {
		if target, _, _ := strings.Cut(l, ":"); target == name {
			c.addSelf(name, "links", fmt.Sprintf("%q: a service cannot link to itself", l), "remove it from links")
			return
		}
	}
	for _, v := range s.VolumesFrom {
		if source, _, _ := strings.Cut(v, ":"); source == name {
			c.addSelf(name, "volumes_from", fmt.Sprintf("%q: a service cannot mount its own volumes", v), "remove it from volumes_from")
			return
		}
	}
	at := c.idx.locate(c.main, name, "depends_on."+name, "depends_on="+name, "depends_on")
	c.ps.add(&Error{
		File: at.file, Line: at.line, Service: name, Field: "depends_on",
		Problem: "the service depends on itself",
		Fix:     fmt.Sprintf("remove %s from its own depends_on", name),
		Err:     ErrDependencyCycle,
	})
}

func (c *checker) addSelf(name, field, problem, fix string) {
	at := c.idx.locate(c.main, name, field)
	c.ps.add(&Error{File: at.file, Line: at.line, Service: name, Field: field, Problem: problem, Fix: fix, Err: ErrSelfReference})
}
