package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestSignalsStopASlowLoad: SIGTERM and SIGINT stop `stack config` while it
// loads a manifest of several megabytes, within a second, with the exit
// status a shell expects of a process a signal ended (143, 130), and
// nothing printed on stdout. Before, both signals were ignored until the
// load finished (seconds; minutes for larger files).
//
// Model: 12,000 services (5 MB), each with ports, environment, volumes and
// a healthcheck: seconds of loading.
// Steps: start `stack config`; once it has spent half a second of CPU (it
// is loading), send the signal -> it exits within a second, 143 or 130.
func TestSignalsStopASlowLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test; -short runs unit tests only")
	}
	bin := e2e.Binary(t)
	dir := t.TempDir()
	writeManifest(t, dir, 12000)
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "config", "--no-inject")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PWD="+dir, "CI=true")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			if err := waitBusy(cmd.Process.Pid, 500*time.Millisecond, exited); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
					t.Fatalf("stack config after %v: %v; want exit status %d\nstderr:\n%s", tt.sig, err, tt.code, stderr.String())
				}
				t.Logf("exited %v after %v: %s", ee.ExitCode(), time.Since(sent), strings.TrimSpace(stderr.String()))
			case <-time.After(time.Second):
				t.Fatalf("stack config still running a second after %v", tt.sig)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %d bytes; want nothing, the load was stopped", stdout.Len())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr %q; want it to say the run was interrupted", stderr.String())
			}
		})
	}
}

// waitBusy polls until process pid has used cpu of processor time (it is
// past its start-up, loading), failing if it exits first or takes a minute.
func waitBusy(pid int, cpu time.Duration, exited chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("stack config ended (%v) before it was busy loading: make the manifest larger", err)
		default:
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return err
		}
		// utime and stime, in clock ticks (100 a second), are the 12th and
		// 13th fields after the command name's closing parenthesis.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		utime, _ := strconv.Atoi(fields[11])
		stime, _ := strconv.Atoi(fields[12])
		if time.Duration(utime+stime)*10*time.Millisecond >= cpu {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("stack config did not get busy within a minute")
}

// writeManifest writes a compose.yaml of n services shaped like real ones.
func writeManifest(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  svc%05d:\n    image: registry.example.com/team/svc%05d:${TAG:-1.0.%d}\n", i, i, i)
		fmt.Fprintf(&b, "    ports: [\"%d:8080\"]\n    environment:\n      SERVICE_NAME: svc%05d\n      LOG_LEVEL: ${LOG_LEVEL:-info}\n", 10000+i%50000, i)
		fmt.Fprintf(&b, "    volumes: [\"data%05d:/var/lib/data\", \"./conf:/etc/app:ro\"]\n", i)
		b.WriteString("    healthcheck:\n      test: [\"CMD\", \"/app\", \"-health\"]\n      interval: 10s\n")
	}
	b.WriteString("volumes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  data%05d: {}\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
