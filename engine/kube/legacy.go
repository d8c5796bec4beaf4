package kube

import (
	"fmt"

	"github.com/stack-deploy/stack/engine"
)

// legacyContainers gives each service the container-shaped view
// engine.Diff still reads (Observed.Containers) until it reads
// Observed.Services: one pseudo-container per replica the workload asks
// for, numbered 1..n, carrying its pod template's config hash, as
// engine/swarm/state.go does for a Swarm service. A workload whose pods
// cannot run (ImagePullBackOff, CrashLoopBackOff) is exited with code 1,
// so that the plan starts it again; a Job is exited, with code 0 once
// complete, 1 once failed; one scaled to 0 (stack stop) is one replica
// exited with code 0. It goes with the container-shaped view.
func legacyContainers(states []engine.ServiceState) []engine.Container {
	var out []engine.Container
	for _, s := range states {
		c := engine.Container{ID: s.Name, Name: s.Name, Service: s.Name, State: "running"}
		if len(s.Versions) > 0 {
			c.Hash, c.Parts = s.Versions[0].Hash, s.Versions[0].Parts
		}
		switch {
		case s.Completed > 0 && s.Completed >= s.Replicas:
			c.State = "exited"
		case s.Stopped != "" || s.Broken != "":
			c.State, c.ExitCode = "exited", 1
		}
		n := s.Replicas
		if n == 0 && s.Stopped != "" {
			n, c.State, c.ExitCode = 1, "exited", 0 // scaled to 0: one stopped replica, which start starts
		}
		for i := 1; i <= n; i++ {
			c.Number = i
			c.ID = fmt.Sprintf("%s-%d", s.Name, i)
			out = append(out, c)
		}
	}
	return out
}
