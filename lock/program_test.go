package lock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestProgram runs the lock process of every architecture (the host's
// natively, the others under qemu-user) and checks the three ways it ends:
// its input closing, its heartbeats stopping for the expiry, and neither
// while heartbeats come.
func TestProgram(t *testing.T) {
	const expiry = 2 * time.Second
	qemu := map[string]string{"amd64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}
	// Every program is written before any runs: a fork while another
	// goroutine holds a file open for writing makes its exec fail with
	// ETXTBSY (golang/go#22315).
	paths := map[string]string{}
	for arch := range qemu {
		prog, err := program(arch, expiry)
		if err != nil {
			t.Fatal(err)
		}
		paths[arch] = filepath.Join(t.TempDir(), "stack-lock-"+arch)
		if err := os.WriteFile(paths[arch], prog, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for arch, emulator := range qemu {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := paths[arch]
			argv := []string{path}
			if arch != runtime.GOARCH {
				q, err := exec.LookPath(emulator)
				if err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("%s is needed to run the %s lock process (apt-get install qemu-user-static)", emulator, arch)
					}
					t.Skipf("%s not installed: the %s lock process is not run", emulator, arch)
				}
				argv = []string{q, path}
			}

			t.Run("input closed", func(t *testing.T) {
				p := startProgram(t, argv)
				_ = p.in.Close()
				if code := p.exit(t, 10*time.Second); code != exitClosed {
					t.Errorf("exit status %d, want %d (input closed)", code, exitClosed)
				}
			})
			t.Run("silent", func(t *testing.T) {
				// The clock starts before the program can: its own expiry
				// counts from its start, which startProgram returns after.
				start := time.Now()
				p := startProgram(t, argv)
				if code := p.exit(t, 10*expiry); code != exitSilent {
					t.Errorf("exit status %d, want %d (no heartbeat)", code, exitSilent)
				}
				if took := time.Since(start); took < expiry {
					t.Errorf("exited after %s without heartbeats, before the %s expiry", took, expiry)
				}
			})
			t.Run("heartbeats", func(t *testing.T) {
				p := startProgram(t, argv)
				for end := time.Now().Add(2 * expiry); time.Now().Before(end); {
					if _, err := p.in.Write([]byte{0}); err != nil {
						t.Fatalf("the program went while heartbeats came: %v", err)
					}
					select {
					case <-p.done:
						t.Fatal("the program exited while heartbeats came")
					case <-time.After(expiry / 10):
					}
				}
				_ = p.in.Close()
				if code := p.exit(t, 10*time.Second); code != exitClosed {
					t.Errorf("exit status %d, want %d", code, exitClosed)
				}
			})
		})
	}
}

func TestProgramUnknownArch(t *testing.T) {
	if _, err := program("s390x", time.Second); !errors.Is(err, ErrArch) {
		t.Errorf("program(s390x) = %v, want ErrArch", err)
	}
}

type running struct {
	cmd  *exec.Cmd
	in   *os.File
	done chan struct{}
}

func startProgram(t *testing.T, argv []string) *running {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	p := &running{cmd: cmd, in: w, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done; _ = w.Close() })
	return p
}

func (p *running) exit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("the program did not exit within %s", within)
		return -1
	}
}
