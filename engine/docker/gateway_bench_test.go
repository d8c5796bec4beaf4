package docker_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// benchWeb is an HTTP service answering its version, with a healthcheck.
const benchWeb = "FROM busybox:stable\nRUN mkdir /www && echo VERSION > /www/index.html\n" +
	"HEALTHCHECK --interval=500ms --retries=20 CMD wget -qO- http://127.0.0.1:8080/\n" +
	"CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"

// deployFigures are what a client sending a request every 20 ms saw of one
// deploy.
type deployFigures struct {
	took    time.Duration
	failed  int
	longest time.Duration
}

// measureDeploy runs deploy while a client requests url every 20 ms, from
// a little before it starts to a little after it ends.
func measureDeploy(b *testing.B, url string, deploy func()) deployFigures {
	b.Helper()
	cl := startClient(url, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // the client runs before the deploy begins
	start := time.Now()
	deploy()
	took := time.Since(start)
	time.Sleep(300 * time.Millisecond) // and goes on once it ends
	ok, fail, _, _ := cl.finish()
	if ok == 0 {
		b.Fatalf("no request to %s was answered", url)
	}
	return deployFigures{took: took, failed: fail, longest: cl.longest}
}

// BenchmarkRedeployBehindTheGateway measures, in one run, the requests a
// client sending one every 20 ms loses through a deploy of a new image of
// an HTTP service with two replicas: `stack up` behind the gateway
// (start-first, the default there), the same deploy with order: stop-first,
// and `docker compose up -d` of the same change on the same app published
// directly (ports 127.0.0.1:P-P+1:8080, the client on the first). It
// reports failed requests, the longest gap between two answers, and the
// deploy's time, with start-first's time over stop-first's (goal: 0 failed
// requests, at most 1.5x). Run it with `make bench` or
// go test ./engine/docker -run '^$' -bench RedeployBehindTheGateway
func BenchmarkRedeployBehindTheGateway(b *testing.B) {
	e2e.Engine(b)
	e2e.Binary(b)
	dc := e2e.Compose(b)
	tag := "stack-bench-web:" + strings.ToLower(strings.ReplaceAll(b.Name(), "/", "-"))
	for _, v := range []string{"v1", "v2"} {
		e2e.DockerfileImage(b, tag+v, strings.Replace(benchWeb, "VERSION", v, 1))
	}
	stackCompose := func(port int, order, version string) string {
		return fmt.Sprintf(`
x-stack:
  gateway:
    ports: ["127.0.0.1:%d:80"]
services:
  web:
    image: %s%s
    init: true
    scale: 2
    deploy:
      update_config: {order: %s}
    x-stack:
      route: {path: /, port: 8080}
`, port, tag, version, order)
	}
	var start, stop, compose deployFigures
	for i := 0; i < b.N; i++ {
		for _, run := range []struct {
			order string
			into  *deployFigures
		}{{"start-first", &start}, {"stop-first", &stop}} {
			project, dir, port := e2e.ProjectName(b), b.TempDir(), freePort(b)
			c := e2e.Cmd{Dir: dir}
			write(b, dir, "name: "+project+"\n"+stackCompose(port, run.order, "v1"))
			c.MustRun(b, "up")
			write(b, dir, "name: "+project+"\n"+stackCompose(port, run.order, "v2"))
			f := measureDeploy(b, fmt.Sprintf("http://127.0.0.1:%d/", port), func() { c.MustRun(b, "up") })
			run.into.took += f.took
			run.into.failed += f.failed
			run.into.longest = max(run.into.longest, f.longest)
		}

		project, dir, port := e2e.ProjectName(b), b.TempDir(), freePort(b)
		write(b, dir, fmt.Sprintf("services:\n  web:\n    image: %s${TAG}\n    init: true\n    scale: 2\n    ports: [\"127.0.0.1:%d-%d:8080\"]\n", tag, port, port+1))
		composeUp := func(version string) {
			cmd := exec.Command(dc[0], append(dc[1:len(dc):len(dc)], "-p", project, "up", "-d", "--wait")...)
			cmd.Dir, cmd.Env = dir, append(os.Environ(), "TAG="+version)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("docker compose up: %v\n%s", err, out)
			}
		}
		b.Cleanup(func() {
			cmd := exec.Command(dc[0], append(dc[1:len(dc):len(dc)], "-p", project, "down")...)
			cmd.Dir = dir
			_ = cmd.Run()
		})
		composeUp("v1")
		f := measureDeploy(b, fmt.Sprintf("http://127.0.0.1:%d/", port), func() { composeUp("v2") })
		compose.took += f.took
		compose.failed += f.failed
		compose.longest = max(compose.longest, f.longest)
	}
	n := float64(b.N)
	for _, m := range []struct {
		name string
		f    deployFigures
	}{{"stack", start}, {"stopfirst", stop}, {"compose", compose}} {
		b.ReportMetric(float64(m.f.failed)/n, m.name+"-failed")
		b.ReportMetric(float64(m.f.longest.Milliseconds()), m.name+"-gap-ms")
		b.ReportMetric(m.f.took.Seconds()/n, m.name+"-s")
	}
	b.ReportMetric(start.took.Seconds()/stop.took.Seconds(), "stack/stopfirst")
}
