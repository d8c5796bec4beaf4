// Command registry is the image registry of the Swarm lab
// (scripts/swarm-lab.sh): go-containerregistry's registry, blobs on disk
// under -dir, manifests in memory (the lab's lifetime), no authentication.
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
	var addrs listens
	flag.Var(&addrs, "listen", "ADDR or ADDR@NETNS-PATH to listen on; repeatable")
	flag.Parse()
	if *dir == "" || len(addrs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: registry -dir DIR -listen ADDR[@NETNS] ...")
		os.Exit(2)
	}
	if err := run(*dir, addrs); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

func run(dir string, addrs []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var lns []net.Listener
	for _, a := range addrs {
		addr, ns, _ := strings.Cut(a, "@")
		ln, err := listenIn(ns, addr)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", a, err)
		}
		lns = append(lns, ln)
	}
	srv := &http.Server{
		Handler:           registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(dir))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- srv.Serve(ln) }()
	}
	fmt.Println("registry: listening on", strings.Join(addrs, " "))
	return <-errs
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
