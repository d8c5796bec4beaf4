package e2e

import "testing"

// KubeProject returns a unique project name whose namespace (the
// project's name) is deleted from the lab when t ends, with everything in
// it.
func (l *KubeLab) KubeProject(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() {
		l.Kubectl(t, "delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=90s")
	})
	return name
}
