package kube

import (
	"strconv"
	"strings"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.RunChecker = (*Driver)(nil)

// CheckRun refuses the flags of `stack run` a one-off Job cannot honour,
// before anything changes: its name, user (a numeric uid[:gid]), working
// directory, labels, capabilities and detaching are the Job's; the rest is
// a container's on one engine.
func (d *Driver) CheckRun(o engine.RunOptions) error {
	_, _, userErr := runAs(o.User)
	return engine.RefuseRun("kubernetes", []engine.RunRefusal{
		{Flag: "-i", Set: o.Interactive, Why: "attach to a pod with kubectl run -i; run without -i"},
		{Flag: "-u " + o.User, Set: userErr != nil, Why: "a pod runs as a numeric uid[:gid] only (securityContext.runAsUser); give the uid"},
		{Flag: "-p", Set: len(o.Publish) > 0, Why: "a pod's ports are reached through a Service or kubectl port-forward; use --service-ports, or publish the port in the manifest"},
		{Flag: "-v", Set: len(o.Volumes) > 0, Why: "a pod mounts what its service declares; add the volume to the service in the manifest"},
		{Flag: "--use-aliases", Set: o.UseAliases, Why: "a Job's pod is reached by its own name; run without --use-aliases"},
	})
}

// runAs parses a numeric uid[:gid]; an empty user is none.
func runAs(user string) (uid, gid *int64, err error) {
	if user == "" {
		return nil, nil, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	id, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return nil, nil, err
	}
	uid = &id
	if hasGroup {
		gr, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, nil, err
		}
		gid = &gr
	}
	return uid, gid, nil
}
