// Command kvstore is a random key/value store over HTTP backed by Redis.
// It finds Redis through REDIS_HOST and REDIS_PORT, which stack injects
// because the service depends on redis: the manifest names no address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "ask the running server's /healthz and exit 0 if it answers 200 (for the image's healthcheck: a scratch image has no curl)")
	flag.Parse()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if *healthcheck {
		os.Exit(check("http://127.0.0.1:" + port + "/healthz"))
	}
	if err := serve(port); err != nil {
		fmt.Fprintln(os.Stderr, "kvstore:", err)
		os.Exit(1)
	}
}

func serve(port string) error {
	host, rport := os.Getenv("REDIS_HOST"), os.Getenv("REDIS_PORT")
	if host == "" || rport == "" {
		return errors.New("REDIS_HOST and REDIS_PORT must be set (stack injects them when the service depends_on redis)")
	}
	redis := NewRedis(net.JoinHostPort(host, rport))
	defer redis.Close()
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           newHandler(redisStore{redis}, randomValue),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("kvstore: listening on :%s, redis at %s:%s\n", port, host, rport)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func check(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, url+":", resp.Status)
		return 1
	}
	return 0
}
