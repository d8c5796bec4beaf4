// Command kv is the engine's end-to-end test app: an HTTP key/value store
// over Redis that knows Redis only through REDIS_HOST and REDIS_PORT, as stack
// injects them. GET /set?key=K&value=V stores, GET /get?key=K reads.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := net.JoinHostPort(os.Getenv("REDIS_HOST"), os.Getenv("REDIS_PORT"))
	http.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		reply(w, addr, "SET", r.FormValue("key"), r.FormValue("value"))
	})
	http.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		reply(w, addr, "GET", r.FormValue("key"))
	})
	http.HandleFunc("/env", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "REDIS_HOST=%s REDIS_PORT=%s\n", os.Getenv("REDIS_HOST"), os.Getenv("REDIS_PORT"))
	})
	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// reply sends one command in RESP and writes the answer: a status or bulk
// string, empty for a missing key.
func reply(w http.ResponseWriter, addr string, args ...string) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		fmt.Fprint(w, line[1:])
	case strings.HasPrefix(line, "$"):
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write(buf[:n])
	default:
		http.Error(w, line, http.StatusBadGateway)
	}
}
