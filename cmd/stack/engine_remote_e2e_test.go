package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// The engines of this file are reached the two other ways the docker CLI
// reaches one: TCP with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and ssh.
// Over both, --engine-timeout bounds every call as it does over the unix
// socket, and the hijacked calls (the lock's attach, exec) still work.

// tlsMaterial is a CA, a server certificate for 127.0.0.1 and a client
// certificate, as DOCKER_CERT_PATH holds them (ca.pem, cert.pem, key.pem).
type tlsMaterial struct {
	Dir    string      // DOCKER_CERT_PATH
	Server *tls.Config // for a listener that requires the client certificate
}

func newTLSMaterial(t *testing.T) *tlsMaterial {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(0)
	sign := func(tmpl *x509.Certificate, parent *x509.Certificate, pub, signer any) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey := key()
	ca := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "stack test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, nil, &caKey.PublicKey, caKey)
	srvKey, cliKey := key(), key()
	srv := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, &srvKey.PublicKey, caKey)
	cli := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "stack test client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, &cliKey.PublicKey, caKey)
	write("ca.pem", "CERTIFICATE", ca.Raw)
	write("cert.pem", "CERTIFICATE", cli.Raw)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	write("key.pem", "PRIVATE KEY", pkcs8)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tlsMaterial{Dir: dir, Server: &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Raw}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12,
	}}
}

// Env is the client environment of an engine listening at addr.
func (m *tlsMaterial) Env(addr string) []string {
	return []string{"DOCKER_HOST=tcp://" + addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + m.Dir}
}

// tlsEngine is a TLS listener on loopback. With a socket, it is the engine
// there reached over TLS (a proxy, as dockerd's own --tlsverify listener
// is); without, it completes the handshake, reads the request and never
// answers, as a wedged engine does. Handshakes counts the connections that
// completed one.
type tlsEngine struct {
	Addr       string
	handshakes atomic.Int64
}

func startTLSEngine(t *testing.T, m *tlsMaterial, socket string) *tlsEngine {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.Server)
	if err != nil {
		t.Fatal(err)
	}
	e := &tlsEngine{Addr: ln.Addr().String()}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.serve(c.(*tls.Conn), socket, track)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return e
}

// serve handles one connection: forwarded to socket both ways, each
// direction's end passed on as a half-close (a hijacked attach ends its
// input that way), or read and never answered when socket is "".
func (e *tlsEngine) serve(c *tls.Conn, socket string, track func(net.Conn)) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return
	}
	e.handshakes.Add(1)
	if socket == "" {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	up, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	track(up)
	defer up.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(c, up)
		_ = c.CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(up, c)
	_ = up.(*net.UnixConn).CloseWrite()
	<-done
}

// TestEngineOverTLS: an engine reached over TCP with TLS, as the docker
// CLI reaches one with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, deploys and
// execs like the local socket, and one that never answers fails `stack up`
// within --engine-timeout with the message naming it.
//
// Model: one service (busybox:stable, sleeping); the test's engine behind
// a TLS proxy on loopback that requires a client certificate (certificates
// made by the test); a TLS listener that never answers.
// Steps: up -> exit 0, over the proxy; exec web echo -> its output (a
// hijacked call over TLS); down -> exit 0; up --engine-timeout 2s on the
// silent listener -> exit 1 within 2-6s, "the engine at tcp://... has not
// answered ... in 2s".
func TestEngineOverTLS(t *testing.T) {
	e2e.Engine(t)
	e2e.Binary(t)
	m := newTLSMaterial(t)
	dir := t.TempDir()
	project := e2e.ProjectName(t)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": "name: " + project + "\nservices:\n  web:\n    image: busybox:stable\n    command: [sleep, \"600\"]\n    stop_signal: SIGKILL\n",
	})

	t.Run("deploys", func(t *testing.T) {
		eng := startTLSEngine(t, m, e2e.EngineSocket())
		c := e2e.Cmd{Dir: dir, Env: m.Env(eng.Addr)}
		c.MustRun(t, "up")
		if out := c.MustRun(t, "exec", "-T", "web", "echo", "over tls").Stdout; strings.TrimSpace(out) != "over tls" {
			t.Errorf("exec over TLS printed %q; want %q", out, "over tls")
		}
		if got := e2e.Docker(t, "ps", "-q", "--filter", "label="+e2e.Label+"="+project); got == "" {
			t.Error("no container of the project runs after up over TLS")
		}
		c.MustRun(t, "down")
		if n := eng.handshakes.Load(); n == 0 {
			t.Error("no connection went through the TLS proxy")
		}
	})

	t.Run("timeout", func(t *testing.T) {
		eng := startTLSEngine(t, m, "")
		assertBounded(t, dir, m.Env(eng.Addr), "tcp://"+eng.Addr)
		if eng.handshakes.Load() == 0 {
			t.Error("stack never completed a TLS handshake with the silent engine")
		}
	})
}

// assertBounded runs `stack --engine-timeout 2s up` in dir with env, on an
// engine at host that never answers, and checks it exits 1 within the
// bound and a little more, naming the engine, and saying says.
func assertBounded(t *testing.T, dir string, env []string, host string, says ...string) {
	t.Helper()
	var stderr bytes.Buffer
	start := time.Now()
	_, exited := startStack(t, dir, env, &stderr, "--engine-timeout", "2s", "up")
	var err error
	select {
	case err = <-exited:
		exited <- err
	case <-time.After(30 * time.Second):
		t.Fatalf("stack up still running 30s after it started, with --engine-timeout 2s\nstderr:\n%s", stderr.String())
	}
	took := time.Since(start)
	t.Logf("exit %d after %v:\n%s", exitStatus(err), took, stderr.String())
	if code := exitStatus(err); code != 1 {
		t.Errorf("exit status %d; want 1", code)
	}
	if took < 2*time.Second || took > 6*time.Second {
		t.Errorf("took %v; want the bound, 2s, and little more", took)
	}
	for _, want := range append([]string{"the engine at " + host + " has not answered ", " in 2s: it may be wedged"}, says...) {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
}

// fakeSSH puts an ssh command first on PATH: this test binary (TestMain
// runs sshAsForwarder when it is called ssh), which connects its standard
// input and output to the socket PATH of the remote command the docker
// CLI's ssh transport gives it (`docker '--host=unix://PATH' system
// dial-stdio`). So ssh://user@host/PATH reaches the socket through stack's
// ssh transport with no ssh server, and SIGTERM ends it at once, as it
// ends ssh.
func fakeSSH(t *testing.T) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "ssh")); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
}

var remoteSocket = regexp.MustCompile(`--host=unix://([^' ]+)`)

// sshAsForwarder is fakeSSH's ssh: it returns the exit status.
func sshAsForwarder(args []string) int {
	m := remoteSocket.FindStringSubmatch(strings.Join(args, " "))
	if m == nil {
		fmt.Fprintf(os.Stderr, "fake ssh: no --host=unix://PATH in %q\n", args)
		return 255
	}
	c, err := net.Dial("unix", m[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "fake ssh: %v\n", err)
		return 255
	}
	defer c.Close()
	go func() {
		_, _ = io.Copy(c, os.Stdin)
		_ = c.(*net.UnixConn).CloseWrite()
	}()
	_, _ = io.Copy(os.Stdout, c)
	return 0
}

// TestEngineOverSSH: an engine reached over ssh:// deploys and execs like
// the local socket, and one that never answers fails `stack up` within
// --engine-timeout with the message naming it.
//
// Model: one service (busybox:stable, sleeping); an ssh command on PATH
// that forwards to the socket the remote command names (fakeSSH); a unix
// socket that never answers.
// Steps: up over ssh://stack@engine/<the test engine's socket> -> exit 0;
// exec web echo -> its output; down; up --engine-timeout 2s over
// ssh://stack@engine/<the silent socket> -> exit 1 within 2-6s, naming it.
func TestEngineOverSSH(t *testing.T) {
	e2e.Engine(t)
	e2e.Binary(t)
	dir := t.TempDir()
	project := e2e.ProjectName(t)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": "name: " + project + "\nservices:\n  web:\n    image: busybox:stable\n    command: [sleep, \"600\"]\n    stop_signal: SIGKILL\n",
	})
	ssh := fakeSSH(t)

	t.Run("deploys", func(t *testing.T) {
		c := e2e.Cmd{Dir: dir, Env: append([]string{"DOCKER_HOST=ssh://stack@engine" + e2e.EngineSocket()}, ssh...)}
		c.MustRun(t, "up")
		if out := c.MustRun(t, "exec", "-T", "web", "echo", "over ssh").Stdout; strings.TrimSpace(out) != "over ssh" {
			t.Errorf("exec over ssh printed %q; want %q", out, "over ssh")
		}
		c.MustRun(t, "down")
	})

	t.Run("timeout", func(t *testing.T) {
		eng := startSilentEngine(t)
		host := "ssh://stack@engine" + strings.TrimPrefix(eng.Host, "unix://")
		assertBounded(t, dir, append([]string{"DOCKER_HOST=" + host}, ssh...), host)
	})
}
