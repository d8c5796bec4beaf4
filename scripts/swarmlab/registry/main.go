// Command registry is the image registry of the Swarm lab
// (scripts/swarm-lab.sh): go-containerregistry's registry, blobs on disk
// under -dir, manifests in memory (the lab's lifetime). The -listen
// addresses ask no credentials; the -private ones serve the same images to
// HTTP basic authentication with -credentials only, as a private registry
// does, so that a test can prove the nodes pull with the credentials a
// service was created with.
//
// It listens on the same address, 127.0.0.1:<port>, in several network
// namespaces at once (the root one and every node's), so that one image
// reference works everywhere: the main Docker engine pushes to it and every
// node's dockerd pulls from it, and both treat 127.0.0.0/8 as an insecure
// (plain HTTP) registry by default, so no engine is reconfigured for it.
// A socket stays in the namespace it was created in, so the process opens
// each listener from a thread moved into that namespace and back.
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"golang.org/x/sys/unix"
)

// listens collects -listen flags: ADDR, or ADDR@NETNS with NETNS the path of
// a network namespace (/run/netns/NAME).
type listens []string

func (l *listens) String() string     { return strings.Join(*l, ",") }
func (l *listens) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	dir := flag.String("dir", "", "directory for blobs (required)")
	var addrs, private listens
	flag.Var(&addrs, "listen", "ADDR or ADDR@NETNS-PATH to listen on; repeatable")
	flag.Var(&private, "private", "ADDR or ADDR@NETNS-PATH to listen on, asking for -credentials; repeatable")
	credentials := flag.String("credentials", "", "USER:PASSWORD the -private addresses ask for")
	flag.Parse()
	user, password, _ := strings.Cut(*credentials, ":")
	if *dir == "" || len(addrs) == 0 || (len(private) > 0 && (user == "" || password == "")) {
		fmt.Fprintln(os.Stderr, "usage: registry -dir DIR -listen ADDR[@NETNS] ... [-credentials USER:PASSWORD -private ADDR[@NETNS] ...]")
		os.Exit(2)
	}
	if err := run(*dir, addrs, private, user, password); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

func run(dir string, addrs, private []string, user, password string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	open := func(addrs []string) ([]net.Listener, error) {
		var lns []net.Listener
		for _, a := range addrs {
			addr, ns, _ := strings.Cut(a, "@")
			ln, err := listenIn(ns, addr)
			if err != nil {
				return nil, fmt.Errorf("listening on %s: %w", a, err)
			}
			lns = append(lns, ln)
		}
		return lns, nil
	}
	public, err := open(addrs)
	if err != nil {
		return err
	}
	guarded, err := open(private)
	if err != nil {
		return err
	}
	reg := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(dir)))
	srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
	auth := &http.Server{Handler: basicAuth(reg, user, password), ReadHeaderTimeout: 10 * time.Second}
	errs := make(chan error, len(public)+len(guarded))
	for _, ln := range public {
		go func() { errs <- srv.Serve(ln) }()
	}
	for _, ln := range guarded {
		go func() { errs <- auth.Serve(ln) }()
	}
	fmt.Println("registry: listening on", strings.Join(addrs, " "), "and, asking for credentials, on", strings.Join(private, " "))
	return <-errs
}

// basicAuth serves h to requests with the credentials only, and answers
// the others 401 with a Basic challenge, which engines answer with the
// credentials they were given.
func basicAuth(h http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="stack-swarm-lab"`)
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// listenIn opens a TCP listener on addr inside the network namespace at path
// ns ("" for the process's own).
func listenIn(ns, addr string) (net.Listener, error) {
	if ns == "" {
		return net.Listen("tcp", addr)
	}
	// setns moves only the calling thread: keep this goroutine on it, and
	// the thread out of the pool if it cannot be moved back.
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer own.Close()
	target, err := os.Open(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("entering %s: %w", ns, err)
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so nothing else runs in the wrong
		// namespace; the process exits on this error.
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("returning from %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ln, lerr
}
