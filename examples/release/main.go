// Command hello answers who it is: its version (baked into the image from
// VERSION) and the environment it runs in (ENVIRONMENT, set per environment
// by compose.yaml from staging.env or prod.env).
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

//go:embed VERSION
var version string

func main() {
	healthcheck := flag.Bool("healthcheck", false, "ask the running server's /healthz and exit 0 if it answers 200")
	migrate := flag.Bool("migrate", false, "the release's migration (x-stack.release.before): say what it would migrate, and exit")
	flag.Parse()
	if *migrate {
		// A real app changes its database's schema here, once per deploy,
		// before any replica of the new version serves.
		fmt.Printf("migrating %s to %s\n", os.Getenv("ENVIRONMENT"), strings.TrimSpace(version))
		return
	}
	if *healthcheck {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://127.0.0.1:8080/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "not healthy:", err)
			os.Exit(1)
		}
		return
	}
	srv := &http.Server{Addr: ":8080", Handler: newHandler(strings.TrimSpace(version), os.Getenv("ENVIRONMENT")), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("hello %s (%s): listening on :8080\n", strings.TrimSpace(version), os.Getenv("ENVIRONMENT"))
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func newHandler(version, environment string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"version": version, "environment": environment})
	})
	return mux
}
