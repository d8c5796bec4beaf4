package swarm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/internal/e2e"
)

// orderCompose: db turns healthy three seconds after it starts; migrate, a
// one-shot, waits for db healthy; app waits for db healthy and for migrate
// to complete (so migrate runs as a job).
const orderCompose = `
name: %[1]s
services:
  db:
    image: %[2]s
    init: true
    command: [sh, -c, "sleep 3; touch /ready; exec sleep 3600"]
    healthcheck: {test: [CMD, test, -e, /ready], interval: 1s, retries: 30}
    stop_grace_period: 1s
    deploy: {endpoint_mode: dnsrr}
  migrate:
    image: %[2]s
    command: [sh, -c, "sleep 2; echo migrated"]
    depends_on:
      db: {condition: service_healthy}
    deploy: {endpoint_mode: dnsrr}
  app:
    image: %[2]s
    init: true
    command: [sleep, "3600"]
    stop_grace_period: 1s
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    deploy: {endpoint_mode: dnsrr, replicas: 2}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[3]s", project: "%[1]s"}
`

// TestDependsOnOrderOnSwarm: depends_on holds on a Swarm, which docker
// stack deploy ignores. Proven from the manager's task timestamps: the
// migrate job's task is created only after db's task ran healthy (Swarm
// counts a task with a healthcheck as running once it passes), app's tasks
// only after the job completed; the job ran once, and a second up neither
// runs it again nor changes anything.
func TestDependsOnOrderOnSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf(orderCompose, project, lab.Image(t, "busybox:stable"), lab.Host)})
	stack := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster"}}

	stack.MustRun(t, "up")
	db := tasksOf(t, lab, project+"_db")
	migrate := tasksOf(t, lab, project+"_migrate")
	app := tasksOf(t, lab, project+"_app")
	if len(db) != 1 || db[0].Status.State != swarm.TaskStateRunning || len(migrate) != 1 || migrate[0].Status.State != swarm.TaskStateComplete || len(app) != 2 {
		t.Fatalf("tasks: db %v, migrate %v, app %v", states(db), states(migrate), states(app))
	}
	healthy, completed := db[0].Status.Timestamp, migrate[0].Status.Timestamp
	t.Logf("db healthy %s; migrate created %s, completed %s; app created %s, %s", healthy.Format(time.StampMicro), migrate[0].CreatedAt.Format(time.StampMicro), completed.Format(time.StampMicro), app[0].CreatedAt.Format(time.StampMicro), app[1].CreatedAt.Format(time.StampMicro))
	if created := migrate[0].CreatedAt; created.Before(healthy) {
		t.Errorf("migrate's task was created at %s, before db's ran healthy at %s", created.Format(time.StampMicro), healthy.Format(time.StampMicro))
	}
	for _, task := range app {
		if task.CreatedAt.Before(completed) {
			t.Errorf("an app task was created at %s, before migrate completed at %s", task.CreatedAt.Format(time.StampMicro), completed.Format(time.StampMicro))
		}
	}
	if got := stack.MustRun(t, "logs", "migrate").Stdout; !strings.Contains(got, "migrated") {
		t.Errorf("stack logs migrate: %q, want the job's output", got)
	}

	plan := stack.Run(t, "plan", "--detailed-exitcode")
	if plan.Code != 0 || !strings.Contains(plan.Stdout, "service:migrate  unchanged  completed") {
		t.Errorf("plan after up: exit %d, want 0 with migrate completed", plan.Code)
	}
	stack.MustRun(t, "up")
	if n := len(tasksOf(t, lab, project+"_migrate")); n != 1 {
		t.Errorf("a second up ran the job again: %d tasks", n)
	}

	// The same project through --orchestrator and the manager as
	// DOCKER_HOST, without the environment: the Swarm driver, which finds
	// it converged (the Docker driver would plan containers).
	flag := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_HOST=" + lab.Host}}
	if r := flag.Run(t, "--orchestrator", "swarm", "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan --orchestrator swarm: exit %d, want 0", r.Code)
	}

	// The verbs: ps lists tasks with their nodes; run is a one-off job with
	// the injected addresses and its exit code; exec and stop say why not.
	ps := stack.MustRun(t, "ps").Stdout
	if !strings.Contains(ps, "NODE") || strings.Count(ps, " running ") != 3 {
		t.Errorf("stack ps:\n%s", ps)
	}
	run := stack.Run(t, "run", "app", "sh", "-c", "echo one-off at $DB_HOST; exit 3")
	if run.Code != 3 || !strings.Contains(run.Stdout, "one-off at db") {
		t.Errorf("stack run: exit %d, output %q; want 3 and the injected DB_HOST", run.Code, run.Stdout)
	}
	// -u, -w and --cap-drop are the one-off's service fields, mapped as up
	// maps them: the job's container runs as that user, there, without it.
	flags := stack.Run(t, "run", "-u", "1234", "-w", "/tmp", "--cap-drop", "ALL", "app", "sh", "-c", "id -u; pwd")
	if flags.Code != 0 || flags.Stdout != "1234\n/tmp\n" {
		t.Errorf("stack run -u 1234 -w /tmp: exit %d, output %q; want 1234 and /tmp", flags.Code, flags.Stdout)
	}
	if exec := stack.Run(t, "exec", "app", "true"); exec.Code != 1 || !strings.Contains(exec.Stderr, "not supported by the swarm orchestrator") || !strings.Contains(exec.Stderr, "runs on node stklab-node") {
		t.Errorf("stack exec: exit %d, %q", exec.Code, exec.Stderr)
	}
	if stop := stack.Run(t, "stop"); stop.Code != 1 || !strings.Contains(stop.Stderr, "a Swarm service has no stopped state") {
		t.Errorf("stack stop: exit %d, %q", stop.Code, stop.Stderr)
	}
	if left := lab.Docker(t, 0, "service", "ls", "-q", "--filter", "label=io.stack.oneoff=true"); left != "" {
		t.Errorf("stack run left its job: %s", left)
	}
	// restart replaces the tasks of what runs, as it is.
	stack.MustRun(t, "restart", "db")
	if again := tasksOf(t, lab, project+"_db"); len(again) != 2 {
		t.Errorf("after stack restart db: %d db tasks, want the old one and a new one", len(again))
	}
	if r := stack.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after restart: exit %d, want 0", r.Code)
	}
}

// tasksOf lists a service's tasks, those that ended included.
func tasksOf(t *testing.T, lab *e2e.SwarmLab, service string) []swarm.Task {
	t.Helper()
	tasks, err := lab.Client(t).TaskList(t.Context(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

func states(ts []swarm.Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t.Status.State))
	}
	return out
}
