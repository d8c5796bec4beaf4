package examples_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// composeProjectLabel is the label Docker Compose puts on what it creates.
const composeProjectLabel = "com.docker.compose.project"

// TestComposeTakeover: a Compose user switches to stack on a running
// project, and loses neither data nor more time than a recreate.
//
// Model: the kvstore example, with REDIS_HOST and REDIS_PORT written out
// in an override file (as a Compose user has them: Compose injects
// nothing), both tools reading the same files (COMPOSE_FILE).
//
//	docker compose up -d --wait   -> web and redis run, Compose's labels
//	POST /pizza                   -> a value stored in redis, on the volume
//	stack plan                    -> network and volume adopted from Docker
//	                                 Compose, both services recreated
//	                                 ("created by Docker Compose"); each new
//	                                 container under a temporary name,
//	                                 renamed once the old one is gone
//	stack up                      -> GET /pizza answers the stored value;
//	                                 <p>-web-1 and <p>-redis-1 carry stack's
//	                                 labels, no container Compose's
//	stack plan --detailed-exitcode -> 0
//	stack down -v                 -> no container, network or volume of
//	                                 the project left, by either label or name
func TestComposeTakeover(t *testing.T) {
	t.Parallel()
	e2e.Engine(t)
	dc := e2e.Compose(t)
	port := freePort(t)
	override := filepath.Join(t.TempDir(), "compose.takeover.yaml")
	if err := os.WriteFile(override, []byte("services:\n  web:\n    environment:\n      REDIS_HOST: redis\n      REDIS_PORT: \"6379\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(e2e.Root(), "examples", "kvstore", "compose.yaml") + string(os.PathListSeparator) + override
	stack, project := example(t, "kvstore", "KVSTORE_PORT="+port, "COMPOSE_FILE="+files)
	t.Cleanup(func() { removeComposeProject(t, project) }) // runs before the stack project's cleanup
	compose := func(args ...string) {
		t.Helper()
		cmd := exec.Command(dc[0], append(dc[1:len(dc):len(dc)], args...)...)
		cmd.Dir, cmd.Env = stack.Dir, append(os.Environ(), stack.Env...)
		out, err := cmd.CombinedOutput()
		t.Logf("$ docker compose %s\n%s", strings.Join(args, " "), out)
		if err != nil {
			t.Fatalf("docker compose %s: %v", strings.Join(args, " "), err)
		}
	}

	compose("up", "-d", "--wait")
	type entry struct {
		Key   string
		Value int64
	}
	var stored, read entry
	callJSON(t, "POST", endpoint(port, "/pizza"), "", http.StatusCreated, &stored)

	plan := stack.MustRun(t, "plan").Stdout
	mustContain(t, "stack plan", plan,
		"network:default  adopt     network \""+project+"_default\" was created by Docker Compose",
		"volume:data      adopt     volume \""+project+"_data\" was created by Docker Compose",
		"service:redis    recreate  created by Docker Compose",
		"service:web      recreate  created by Docker Compose")
	var ops struct {
		Operations []struct{ Op, Target, Detail, Action string }
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "plan", "--format", "json").Stdout), &ops); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "redis"} {
		name := project + "-" + svc + "-1"
		tmp := regexp.MustCompile(regexp.QuoteMeta(name) + `-[0-9a-f]{8}\b`)
		var steps []string
		for _, op := range ops.Operations {
			if op.Action == "service:"+svc {
				steps = append(steps, op.Op+" "+tmp.ReplaceAllString(op.Target, name+"-<tmp>")+" "+op.Detail)
			}
		}
		want := []string{
			"create container:" + name + "-<tmp> replaces " + name,
			"stop container:" + name + " ",
			"start container:" + name + "-<tmp> ",
			"wait container:" + name + "-<tmp> until healthy",
			"remove container:" + name + " ",
			"rename container:" + name + "-<tmp> to " + name,
		}
		if strings.Join(steps, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s's operations:\n%s\nwant a replacement as for a changed configuration:\n%s", svc, strings.Join(steps, "\n"), strings.Join(want, "\n"))
		}
	}

	stack.MustRun(t, "up")
	callJSON(t, "GET", endpoint(port, "/pizza"), "", http.StatusOK, &read)
	if read != stored {
		t.Errorf("after stack up: read %+v, want %+v (redis data on Compose's volume)", read, stored)
	}
	cs := containers(t, project)
	for _, svc := range []string{"web", "redis"} {
		if c := cs[svc]; c.Name != "/"+project+"-"+svc+"-1" || c.Config.Labels[composeProjectLabel] != "" {
			t.Errorf("%s: container %q with labels %v, want %s-%s-1 with stack's labels only", svc, c.Name, c.Config.Labels, project, svc)
		}
	}
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label="+composeProjectLabel+"="+project); left != "" {
		t.Errorf("Compose's containers left after stack up: %s", left)
	}
	if r := stack.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after stack up: exit %d, want 0 (converged):\n%s", r.Code, r.Stdout)
	}

	stack.MustRun(t, "down", "-v")
	for _, label := range []string{e2e.Label, composeProjectLabel} {
		for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}} {
			if left := e2e.Docker(t, append(kind, "--filter", "label="+label+"="+project)...); left != "" {
				t.Errorf("after stack down -v: docker %s labelled %s: %s", kind[0], label, left)
			}
		}
	}
	for _, kind := range []string{"network", "volume"} {
		if left := e2e.Docker(t, kind, "ls", "-q", "--filter", "name="+project+"_"); left != "" {
			t.Errorf("after stack down -v: %ss named %s_*: %s", kind, project, left)
		}
	}
}

// removeComposeProject force-removes what Docker Compose created for
// project, whatever stack left of it.
func removeComposeProject(t *testing.T, project string) {
	filter := "label=" + composeProjectLabel + "=" + project
	if ids := e2e.Docker(t, "ps", "-aq", "--filter", filter); ids != "" {
		e2e.Docker(t, append([]string{"rm", "-fv"}, strings.Fields(ids)...)...)
	}
	for _, kind := range []string{"network", "volume"} {
		if ids := e2e.Docker(t, kind, "ls", "-q", "--filter", filter); ids != "" {
			e2e.Docker(t, append([]string{kind, "rm"}, strings.Fields(ids)...)...)
		}
	}
}
