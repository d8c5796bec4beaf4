package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestRunFlagsOnKubernetes: stack run's flags that map to a Job work on a
// cluster, and those that do not are refused by name before anything
// changes.
//
//	run -p 8080 web true  -> exit 1 naming -p and the orchestrator; no namespace made
//	run -d --name mig -u 1000 -w /tmp -l team=qa web sh -c ...
//	                      -> prints mig, exit 0 at once; the Job mig completes, its log
//	                         says "1000 /tmp", it carries team=qa
func TestRunFlagsOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "IMAGE", lab.Image(t, "busybox:stable")).Replace(verbsCompose)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + compose, "src/index": "v1"})
	stack := e2e.Cmd{Dir: dir, Env: append(lab.Env(), "STACK_ENV=lab")}

	r := stack.Run(t, "run", "-p", "8080", "web", "true")
	if r.Code != 1 || !strings.Contains(r.Stderr, "stack run -p: not supported by the kubernetes orchestrator") {
		t.Errorf("run -p: exit %d, want 1 naming -p and the orchestrator:\n%s", r.Code, r.Stderr)
	}
	if got := lab.Kubectl(t, "get", "namespace", ns, "--ignore-not-found", "-o", "name"); got != "" {
		t.Errorf("a refused run changed the cluster: namespace %q exists", got)
	}

	out := stack.MustRun(t, "run", "-d", "--name", "mig", "-u", "1000", "-w", "/tmp", "-l", "team=qa", "web", "sh", "-c", `echo "$(id -u) $(pwd)"`).Stdout
	if out != "mig\n" {
		t.Fatalf("run -d: stdout %q, want the Job's name", out)
	}
	lab.Kubectl(t, "-n", ns, "wait", "--for=condition=complete", "job/mig", "--timeout=90s")
	if log := lab.Kubectl(t, "-n", ns, "logs", "job/mig"); log != "1000 /tmp" {
		t.Errorf("the Job's log: %q, want its uid and working directory", log)
	}
	if team := lab.Kubectl(t, "-n", ns, "get", "job/mig", "-o", "jsonpath={.metadata.labels.team}"); team != "qa" {
		t.Errorf("the Job's label team: %q", team)
	}
}
