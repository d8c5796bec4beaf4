// Command loopback gives the engine-29 lab's network namespace
// (scripts/engine-29.sh) this machine's loopback: inside the namespace an
// iptables REDIRECT sends every TCP connection to 127.0.0.0/8 to the one
// listener this process opens there (-listen ADDR@NETNS); it reads the
// connection's original destination (SO_ORIGINAL_DST) and dials the same
// address from its own network namespace, the machine's, then copies both
// ways. So the lab's dockerd pushes to and pulls from the tests' registries
// on 127.0.0.1:<port>, as an engine installed here does.
//
// A socket stays in the namespace it was created in, so the listener is
// opened from a thread moved into the namespace and back.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	listen := flag.String("listen", "", "ADDR@NETNS-PATH to accept redirected connections on")
	flag.Parse()
	addr, ns, ok := strings.Cut(*listen, "@")
	if !ok || addr == "" || ns == "" {
		fmt.Fprintln(os.Stderr, "usage: loopback -listen ADDR@NETNS-PATH")
		os.Exit(2)
	}
	ln, err := listenIn(ns, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopback:", err)
		os.Exit(1)
	}
	fmt.Println("loopback: listening on", *listen)
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "loopback: accepting:", err)
			os.Exit(1)
		}
		go forward(c.(*net.TCPConn))
	}
}

// forward dials c's original destination here and copies both ways until
// both sides are done.
func forward(c *net.TCPConn) {
	defer c.Close()
	dst, err := originalDst(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopback: reading the original destination:", err)
		return
	}
	up, err := net.DialTimeout("tcp", dst, 10*time.Second)
	if err != nil {
		return // the client sees its connection closed, as a refused one
	}
	defer up.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(up, c); _ = up.(*net.TCPConn).CloseWrite() }()
	go func() { defer wg.Done(); _, _ = io.Copy(c, up); _ = c.CloseWrite() }()
	wg.Wait()
}

// originalDst is the address a REDIRECTed connection was made to.
func originalDst(c *net.TCPConn) (string, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return "", err
	}
	var addr string
	var serr error
	err = raw.Control(func(fd uintptr) {
		// struct sockaddr_in, read through the 16-byte IPv6Mreq as usual.
		m, e := syscall.GetsockoptIPv6Mreq(int(fd), syscall.IPPROTO_IP, unix.SO_ORIGINAL_DST)
		if e != nil {
			serr = e
			return
		}
		port := binary.BigEndian.Uint16(m.Multiaddr[2:4])
		ip := net.IPv4(m.Multiaddr[4], m.Multiaddr[5], m.Multiaddr[6], m.Multiaddr[7])
		addr = net.JoinHostPort(ip.String(), fmt.Sprint(port))
	})
	if err != nil {
		return "", err
	}
	return addr, serr
}

// listenIn opens a TCP listener on addr inside the network namespace at
// path ns.
func listenIn(ns, addr string) (net.Listener, error) {
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
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("returning from %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ln, lerr
}
