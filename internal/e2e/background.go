package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Background runs stack with args in dir (env added, CI=true) until the
// test ends, its output to stdout (nil: os.Stdout); at cleanup it gets
// Ctrl-C and must end, cleanly, within 10s, as a user's would.
func Background(t testing.TB, dir string, env []string, stdout io.Writer, args ...string) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CI=true"), env...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	if stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name := "stack " + args[0]
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s after Ctrl-C: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not end within 10s of Ctrl-C", name)
		}
	})
}

// Dashboard runs `stack dashboard --no-open` in dir (env added, and args)
// until the test ends, and returns its address without the token, and the
// token: the first line it prints says them, within 30s.
func Dashboard(t testing.TB, dir string, env []string, args ...string) (base, token string) {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { _ = r.Close() })
	Background(t, dir, env, w, append([]string{"dashboard", "--no-open"}, args...)...)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-lines:
		_, url, ok := strings.Cut(l, ": http://")
		if !ok || !strings.HasPrefix(url, "127.0.0.1:") || !strings.Contains(url, "/?token=") {
			t.Fatalf("stack dashboard printed %q, want its address on 127.0.0.1 with a token", l)
		}
		base, token, _ = strings.Cut("http://"+url, "?token=")
		return base, token
	case <-time.After(30 * time.Second):
		t.Fatal("stack dashboard printed no address within 30s")
	}
	return "", ""
}

// DashboardStates runs stack dashboard as Dashboard does and reads its
// event stream as its page does, handing each state sent (a JSON object)
// to accept until it returns true: false when 30s pass first.
func DashboardStates(t testing.TB, dir string, env []string, accept func(state []byte) bool, args ...string) bool {
	t.Helper()
	base, token := Dashboard(t, dir, env, args...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"events?token="+token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && accept([]byte(data)) {
			return true
		}
	}
	return false
}
