package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// example sets a test up to drive examples/<name> as project project, with
// env (e.g. the published port) on top of the test's environment, and
// removes the images stack built for the project when the test ends.
func example(t *testing.T, name string, env ...string) (e2e.Cmd, string) {
	t.Helper()
	e2e.Engine(t)
	var project string
	// registered first so that it runs last, once ProjectName's cleanup has
	// removed the containers using the images.
	t.Cleanup(func() {
		// images stack builds for a project are named <project>-<service>.
		if ids := e2e.Docker(t, "images", "-q", "--filter", "reference="+project+"-*"); ids != "" {
			e2e.Docker(t, append([]string{"rmi", "-f"}, strings.Fields(ids)...)...)
		}
	})
	project = e2e.ProjectName(t)
	return e2e.Cmd{Dir: filepath.Join(e2e.Root(), "examples", name), Env: append(env, "COMPOSE_PROJECT_NAME="+project)}, project
}

// freePort returns a TCP port nothing listens on now, for a published port.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// call sends one request and returns the status and body; a transport
// error fails the test (stack up has returned: the service must answer).
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	logged := strings.TrimSpace(string(b))
	if len(logged) > 300 { // a page: its start says which
		logged = logged[:300] + " [...]"
	}
	t.Logf("%s %s -> %d %s", method, url, resp.StatusCode, logged)
	return resp.StatusCode, string(b)
}

// callJSON is call that decodes a JSON answer into out and fails the test
// unless the status is want.
func callJSON(t *testing.T, method, url, body string, want int, out any) {
	t.Helper()
	status, b := call(t, method, url, body)
	if status != want {
		t.Fatalf("%s %s = %d %q, want %d", method, url, status, b, want)
	}
	if err := json.Unmarshal([]byte(b), out); err != nil {
		t.Fatalf("%s %s: decoding %q: %v", method, url, b, err)
	}
}

// container is what the tests read from docker inspect.
type container struct {
	ID     string
	Name   string
	Image  string
	Config struct{ Labels map[string]string }
	State  struct {
		StartedAt time.Time
		Health    *struct {
			Status string
			Log    []struct {
				End      time.Time
				ExitCode int
			}
		}
	}
	HostConfig struct{ Memory int64 }
}

// containers inspects the project's containers, by service.
func containers(t *testing.T, project string) map[string]container {
	t.Helper()
	ids := strings.Fields(e2e.Docker(t, "ps", "-aq", "--filter", "label="+e2e.Label+"="+project))
	if len(ids) == 0 {
		return nil
	}
	var cs []container
	if err := json.Unmarshal([]byte(e2e.Docker(t, append([]string{"inspect"}, ids...)...)), &cs); err != nil {
		t.Fatalf("decoding docker inspect: %v", err)
	}
	m := map[string]container{}
	for _, c := range cs {
		svc := c.Config.Labels["io.stack.service"]
		if _, dup := m[svc]; dup {
			t.Fatalf("two containers for service %q", svc)
		}
		m[svc] = c
	}
	return m
}

// load asks each of its URLs in turn every 20 ms, until stopped or five
// minutes pass, counting the answers (200) and the failures.
type load struct {
	ok, failed int
	failures   []string // the first few: when, what and why
	quit, done chan struct{}
}

func startLoad(urls ...string) *load {
	l := &load{quit: make(chan struct{}), done: make(chan struct{})}
	hc := &http.Client{Timeout: 10 * time.Second}
	go func() {
		defer close(l.done)
		deadline := time.After(5 * time.Minute)
		for i := 0; ; i++ {
			resp, err := hc.Get(urls[i%len(urls)])
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			switch {
			case err == nil && resp.StatusCode == http.StatusOK:
				l.ok++
			default:
				l.failed++
				why := fmt.Sprint(err)
				if err == nil {
					why = resp.Status
				}
				if len(l.failures) < 5 {
					l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+urls[i%len(urls)]+": "+why)
				}
			}
			select {
			case <-l.quit:
				return
			case <-deadline:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // under way before what it measures
	return l
}

// stop ends the load a moment later and returns its counts, and the first
// failures.
func (l *load) stop() (ok, failed int, failures string) {
	time.Sleep(200 * time.Millisecond)
	close(l.quit)
	<-l.done
	return l.ok, l.failed, strings.Join(l.failures, "\n")
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

func endpoint(port, path string) string { return fmt.Sprintf("http://127.0.0.1:%s%s", port, path) }
