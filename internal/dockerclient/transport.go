package dockerclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
)

// MinAPIVersion is the oldest Engine API stack works with: Docker 20.10's.
const MinAPIVersion = "1.41"

// TooOldError is the error of every call to an engine whose API is older
// than MinAPIVersion.
type TooOldError struct {
	Host, APIVersion string
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("the engine at %s speaks Engine API %s; stack needs %s (Docker 20.10) or later: upgrade the engine, or point DOCKER_HOST at another",
		e.Host, e.APIVersion, MinAPIVersion)
}

// boundedTransport fails a request whose response has not begun within
// bound (plus the grace period of a stop or restart, which the engine
// answers only once the container has stopped; 0: no bound), and every
// request to an engine whose ping says its API is too old.
type boundedTransport struct {
	next  http.RoundTripper
	host  string
	bound time.Duration
}

// failedEngines holds, by engine address, why this process stopped calling
// an engine: a ping that went unanswered (an engine that does not answer a
// ping is not answering at all: the calls that follow, for the Docker
// client pings with HEAD, then with GET, then goes on with the call it was
// making, fail at once rather than each waiting the bound again), or an API
// too old.
var failedEngines sync.Map

var (
	versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)
	stopPath      = regexp.MustCompile(`^/containers/[^/]+/(stop|restart)$`)
)

// innerRequest marks the request a boundedTransport hands back to the
// transport it is registered with, which must then send it itself.
type innerRequest struct{}

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(innerRequest{}) != nil {
		return nil, http.ErrSkipAltProtocol
	}
	req = req.WithContext(context.WithValue(req.Context(), innerRequest{}, true))
	path := req.URL.Path
	if loc := versionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	if err, failed := failedEngines.Load(b.host); failed {
		return nil, err.(error)
	}
	resp, err := b.roundTrip(req, path)
	if err != nil || path != "/_ping" {
		return resp, err
	}
	if v := resp.Header.Get("Api-Version"); v != "" && versions.LessThan(v, MinAPIVersion) {
		resp.Body.Close()
		err := &TooOldError{Host: b.host, APIVersion: v}
		failedEngines.Store(b.host, err)
		return nil, err
	}
	return resp, nil
}

func (b *boundedTransport) roundTrip(req *http.Request, path string) (*http.Response, error) {
	bound, ok := b.boundOf(req, path)
	if !ok {
		return b.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(bound, cancel)
	resp, err := b.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		err := &NotAnsweringError{Host: b.host, Method: req.Method, Path: path, After: bound}
		if path == "/_ping" {
			failedEngines.Store(b.host, err)
		}
		return nil, err
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// boundOf is the bound of req: the transport's, plus a stop's or restart's
// grace period (t seconds; -1, waiting for ever, has no bound).
func (b *boundedTransport) boundOf(req *http.Request, path string) (time.Duration, bool) {
	if b.bound <= 0 {
		return 0, false
	}
	if req.Method != http.MethodPost || !stopPath.MatchString(path) {
		return b.bound, true
	}
	t := req.URL.Query().Get("t")
	if t == "" {
		t = req.URL.Query().Get("timeout")
	}
	if t == "" {
		return b.bound + 10*time.Second, true // the engine's default grace period
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, false
	}
	return b.bound + time.Duration(n)*time.Second, true
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// withCallBound bounds the client's calls with a boundedTransport, on every
// transport: unix, tcp, TLS and ssh alike. It does not wrap the client's
// *http.Transport, which the Docker client must keep seeing as one: it
// dials hijacked calls (attach, exec, BuildKit sessions) and picks https
// from it, and with a wrapped transport it dialled TLS engines in plain
// TCP and ssh ones not at all. The bound is registered in the transport
// for its schemes instead (http.Transport.RegisterProtocol, the hook the
// standard library gives for this), and hands each request back to it.
func withCallBound(host string) client.Opt {
	return func(c *client.Client) error {
		if host == "" {
			host = client.DefaultDockerHost
		}
		t, ok := c.HTTPClient().Transport.(*http.Transport)
		if !ok {
			return nil
		}
		b := &boundedTransport{next: t, host: host, bound: CallTimeout()}
		t.RegisterProtocol("http", b)
		t.RegisterProtocol("https", b)
		return nil
	}
}
