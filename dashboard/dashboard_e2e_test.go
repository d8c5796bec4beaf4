package dashboard_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestDashboardInBrowserE2E: `stack dashboard` on a project up on the
// engine, opened in a real headless browser (Debian's chromium, driven by
// chromedp).
//
// Model: two busybox services; web, an HTTP server with a healthcheck,
// behind the gateway on /; worker sleeps.
//
//	stack up                      -> both run
//	stack dashboard --no-open     -> prints http://127.0.0.1:PORT/?token=...
//	GET / without or with a wrong token -> 401
//	the page                      -> a row per service, running, web healthy, a CPU plot drawn
//	30 requests through the gateway -> the route's row counts them
//	a line written to web's output after the page opened -> in the log tail
//	stack stop worker             -> its row says exited, the events feed its stop, within 30s
//	stack start worker, a line    -> running again, the line in the log tail (a new follow)
func TestDashboardInBrowserE2E(t *testing.T) {
	e2e.Engine(t)
	browser := chromium(t)
	dir := t.TempDir()
	name := e2e.ProjectName(t)
	port := freePort(t)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + name + `
x-stack:
  gateway:
    ports: ["127.0.0.1:` + strconv.Itoa(port) + `:80"]
services:
  web:
    image: busybox:stable
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    healthcheck: {test: ["CMD", "true"], interval: 1s, start_period: 1s}
    x-stack:
      route: {path: /, port: 8080}
  worker:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
`})
	stack := e2e.Cmd{Dir: dir}
	stack.MustRun(t, "up")
	base, token := e2e.Dashboard(t, dir, nil)

	for _, url := range []string{base, base + "?token=wrong", base + "events"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: status %d, want 401", url, resp.StatusCode)
		}
	}

	page := openPage(t, browser, base, token)
	page.waitFor(t, "web's row running and healthy", `cell("web", "state") + " " + cell("web", "health")`, "running healthy")
	page.waitFor(t, "worker's row running", `cell("worker", "state")`, "running")
	page.waitFor(t, "a CPU plot of web drawn", `String(Number(document.querySelector('tr[data-service="web"] canvas.cpu-plot')?.dataset.points ?? 0) >= 2)`, "true")

	for range 30 {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through the gateway: %s", resp.Status)
		}
	}
	page.waitFor(t, "the route's 30 requests", `String(Number(document.querySelector('tr[data-route="/"] td[data-field="requests"]')?.textContent ?? 0) >= 30)`, "true")

	marker := fmt.Sprintf("written-after-the-page-opened-%d", time.Now().UnixNano())
	e2e.Docker(t, "exec", name+"-web-1", "sh", "-c", "echo "+marker+" > /proc/1/fd/1")
	page.waitFor(t, "the marker in the log tail", `String([...document.querySelectorAll("#logs li")].some((li) => li.textContent.includes("`+marker+`")))`, "true")

	stack.MustRun(t, "stop", "worker")
	page.waitFor(t, "worker's row exited", `cell("worker", "state")`, "exited")
	page.waitFor(t, "worker's stop in the events", `String(!!document.querySelector('#events li[data-service="worker"][data-action="stop"]'))`, "true")
	page.screenshot(t)

	stack.MustRun(t, "start", "worker")
	page.waitFor(t, "worker's row running again", `cell("worker", "state")`, "running")
	again := fmt.Sprintf("from-the-restarted-worker-%d", time.Now().UnixNano())
	e2e.Docker(t, "exec", name+"-worker-1", "sh", "-c", "echo "+again+" > /proc/1/fd/1")
	page.waitFor(t, "the restarted worker's line in the log tail", `String([...document.querySelectorAll('#logs li[data-service="worker"]')].some((li) => li.textContent.includes("`+again+`")))`, "true")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// chromium finds Debian's chromium (scripts/tools.sh installs it); on CI
// its absence fails the test, elsewhere it skips it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if v := os.Getenv("CI"); v != "" && v != "false" && v != "0" {
		t.Fatal("no chromium: scripts/tools.sh installs it (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: scripts/tools.sh installs it (apt-get install chromium)")
	return ""
}

type page struct{ ctx context.Context }

// openPage opens base with token in a headless chromium, closed when
// the test ends.
func openPage(t *testing.T, browser, base, token string) page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	// The first call starts the browser, tied to the context it is given:
	// this one, not the timeout's below.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	nav, cancelNav := context.WithTimeout(ctx, time.Minute)
	defer cancelNav()
	if err := chromedp.Do(nav, chromedp.Navigate(base+"?token="+token), chromedp.WaitVisible("#services")); err != nil {
		t.Fatalf("opening the dashboard in chromium: %v", err)
	}
	return page{ctx: ctx}
}

// screenshot saves the page as a PNG where STACK_DASHBOARD_SCREENSHOT
// names (the README's is made so), when it is set.
func (p page) screenshot(t *testing.T) {
	t.Helper()
	path := os.Getenv("STACK_DASHBOARD_SCREENSHOT")
	if path == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // not a synchronisation: the plots redraw at the new width on the next state
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cellJS defines cell(service, field): the text of a service's cell.
const cellJS = `const cell = (s, f) => document.querySelector('tr[data-service="' + s + '"] td[data-field="' + f + '"]')?.textContent ?? "";`

// waitFor evaluates expr (a string) in the page until it is want, for 30s
// at most, twice a second.
func (p page) waitFor(t *testing.T, what, expr, want string) {
	t.Helper()
	var got string
	for range 60 {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		var err error
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string]("(() => { "+cellJS+" return "+expr+"; })()"))
		cancel()
		if err != nil {
			t.Fatalf("%s: evaluating %s: %v", what, expr, err)
		}
		if got == want {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: after 30s the page has %q, want %q", what, got, want)
}
