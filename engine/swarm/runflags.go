package swarm

import (
	"github.com/stack-deploy/stack/engine"
)

var _ engine.RunChecker = (*Driver)(nil)

// CheckRun refuses the flags of `stack run` a one-off job cannot honour,
// before anything changes: its user, working directory, labels and
// capabilities are the service's own fields (engine.RunOptions.OneOffProject,
// mapped as up maps them); the rest is a container's.
func (d *Driver) CheckRun(o engine.RunOptions) error {
	return engine.RefuseRun("swarm", []engine.RunRefusal{
		{Flag: "-i", Set: o.Interactive, Why: "a Swarm task's standard input cannot be attached; run without -i"},
		{Flag: "-d", Set: o.Detach, Why: "a one-off job is removed once its task ends (a finished job would hold the service's networks); run without -d, or deploy it as a service"},
		{Flag: "--name", Set: o.Name != "", Why: "a one-off job is named <project>_<service>-run-<id>; run without --name"},
		{Flag: "-p", Set: len(o.Publish) > 0, Why: "a job's ports would be the Swarm's ingress, not one container's; use --service-ports, or publish the port in the manifest"},
		{Flag: "-v", Set: len(o.Volumes) > 0, Why: "a task mounts what its service declares; add the volume to the service in the manifest"},
		{Flag: "--use-aliases", Set: o.UseAliases, Why: "a one-off job has its own name on the service's networks; run without --use-aliases"},
	})
}
