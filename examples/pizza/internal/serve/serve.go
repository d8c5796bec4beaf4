// Package serve runs an HTTP service the way every pizza service runs: on
// $PORT (default 8080), with GET /healthz, a -healthcheck flag for the
// image's healthcheck (a scratch image has no curl), graceful shutdown on
// SIGTERM, and the addresses of its dependencies from the variables stack
// injects (ORDERS_HOST, ORDERS_PORT, ...).
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Main parses the flags and either answers the healthcheck or serves the
// handler newHandler builds. It exits the process when done.
func Main(name string, newHandler func() (http.Handler, error)) {
	healthcheck := flag.Bool("healthcheck", false, "ask the running service's /healthz and exit 0 if it answers 200")
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if *healthcheck {
		if err := Check("http://127.0.0.1:" + port + "/healthz"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(name, port, newHandler); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func run(name, port string, newHandler func() (http.Handler, error)) error {
	h, err := newHandler()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("%s: listening on :%s\n", name, port)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Check GETs url and fails unless it answers 200 within two seconds.
func Check(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// Upstream is the base URL of a dependency, from the variables stack injects
// for it: PREFIX_HOST and PREFIX_PORT (prefix "ORDERS" for service orders).
func Upstream(getenv func(string) string, prefix string) (*url.URL, error) {
	host, port := getenv(prefix+"_HOST"), getenv(prefix+"_PORT")
	if host == "" || port == "" {
		return nil, fmt.Errorf("%s_HOST and %s_PORT must be set (stack injects them when the service depends_on %s)",
			prefix, prefix, strings.ToLower(prefix))
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}

// JSON answers v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
