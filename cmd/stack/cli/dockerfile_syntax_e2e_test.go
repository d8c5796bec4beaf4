package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// engineParsesDockerfile16 asks the engine whether its BuildKit's built-in
// frontend parses Dockerfile syntax 1.6 (heredocs, COPY --link, ADD
// --checksum): BuildKit v0.12, Docker 24 (API 1.43) and later.
func engineParsesDockerfile16(t *testing.T) (bool, string) {
	t.Helper()
	api := e2e.Docker(t, "version", "--format", "{{.Server.APIVersion}}")
	major, minor, _ := strings.Cut(api, ".")
	m, _ := strconv.Atoi(minor)
	return major == "1" && m >= 43, api
}

// Intent: a Dockerfile that uses heredocs (RUN <<EOF, COPY <<EOF), COPY
// --link, COPY --chmod and ADD --checksum, with no # syntax= directive,
// builds and runs on an engine whose built-in frontend parses them (Docker
// 29); on one that does not (Docker 20.10, BuildKit v0.8) `stack up` fails
// before anything is built or created, naming the file, the line and the
// engine.
//
//	web: FROM busybox:stable; RUN <<EOF (writes /greeting); COPY --link --chmod=755 run.sh;
//	     ADD --checksum=sha256:<sum> http://127.0.0.1:<port>/data.txt (a server of the test)
//	engine 29: stack up -> exit 0; the container prints the heredoc's, the COPY's and the ADD's work
//	engine 20.10: stack up -> exit 1, "Dockerfile:2", "heredoc", "API 1.41, Docker 20.10"; no image, no container
func TestDockerfileSyntaxOfTheEngineE2E(t *testing.T) {
	e2e.Engine(t)
	modern, api := engineParsesDockerfile16(t)
	data := "fetched by ADD\n"
	sum := sha256.Sum256([]byte(data))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(data)) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	dir, project, _ := newProject(t)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": "name: " + project + "\nservices:\n  web:\n    build: ./web\n    command: [/app/run.sh]\n",
		"web/Dockerfile": "FROM busybox:stable\n" +
			"RUN <<EOF\necho 'hello from a heredoc' > /greeting\necho second line >> /greeting\nEOF\n" +
			"COPY --link --chmod=755 run.sh /app/run.sh\n" +
			"ADD --checksum=sha256:" + hex.EncodeToString(sum[:]) + " http://" + ln.Addr().String() + "/data.txt /app/data.txt\n",
		"web/run.sh": "#!/bin/sh\ncat /greeting /app/data.txt\nls -l /app/run.sh\nsleep 600\n",
	})
	cmd := e2e.Cmd{Dir: dir}
	if !modern {
		r := cmd.Run(t, "up")
		if r.Code != 1 {
			t.Fatalf("stack up on API %s: exit %d; want 1", api, r.Code)
		}
		for _, want := range []string{"Dockerfile:2", "a heredoc", "API " + api, "BuildKit v0.10"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		if id := e2e.Docker(t, "images", "-q", project+"-web"); id != "" {
			t.Errorf("an image %s was built", id)
		}
		if ids := e2e.Docker(t, "ps", "-aq", "--filter", "label="+e2e.Label+"="+project); ids != "" {
			t.Errorf("containers were created: %s", ids)
		}
		return
	}
	cmd.MustRun(t, "up")
	var logs string
	for i := 0; i < 50 && !strings.Contains(logs, "run.sh"); i++ {
		logs = cmd.MustRun(t, "logs", "--no-color", "web").Stdout
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"hello from a heredoc", "second line", "fetched by ADD", "-rwxr-xr-x"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the container's output lacks %q:\n%s", want, logs)
		}
	}
}
