package dockerclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// DefaultCallTimeout is how long an engine call may wait for the beginning
// of its answer unless SetCallTimeout or STACK_ENGINE_TIMEOUT says otherwise.
const DefaultCallTimeout = 60 * time.Second

// EnvCallTimeout names the environment variable that sets the bound, as a
// Go duration ("90s", "2m") or whole seconds; --engine-timeout overrides it.
const EnvCallTimeout = "STACK_ENGINE_TIMEOUT"

var (
	callTimeoutMu  sync.Mutex
	callTimeout    time.Duration
	callTimeoutSet bool
)

// SetCallTimeout bounds, for every client made afterwards, how long an
// engine call may take before its answer begins; 0 removes the bound.
// Streams that have begun (logs, events, attach, a build's output) are
// bounded only by the run's context.
func SetCallTimeout(d time.Duration) {
	callTimeoutMu.Lock()
	defer callTimeoutMu.Unlock()
	callTimeout, callTimeoutSet = d, true
}

// CallTimeout is the bound SetCallTimeout set, else STACK_ENGINE_TIMEOUT's,
// else DefaultCallTimeout.
func CallTimeout() time.Duration {
	callTimeoutMu.Lock()
	defer callTimeoutMu.Unlock()
	if callTimeoutSet {
		return callTimeout
	}
	if d, err := ParseCallTimeout(os.Getenv(EnvCallTimeout)); err == nil && d >= 0 {
		return d
	}
	return DefaultCallTimeout
}

// ParseCallTimeout reads a bound as a Go duration or whole seconds; ""
// is DefaultCallTimeout.
func ParseCallTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultCallTimeout, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (60s, 2m, or seconds)", s)
	}
	return d, nil
}

// NotAnsweringError is the error of an engine call whose answer did not
// begin within the bound.
type NotAnsweringError struct {
	Host   string // the engine's address, unix:///var/run/docker.sock
	Method string
	Path   string // without the API version prefix
	After  time.Duration
}

func (e *NotAnsweringError) Error() string {
	return fmt.Sprintf("the engine at %s has not answered %s %s in %s: it may be wedged; "+
		"see whether `docker info` answers there and what the engine's log says "+
		"(on a wedged engine, `kill -USR1 <dockerd pid>` writes a goroutine dump under /var/run/docker); "+
		"--engine-timeout (%s) sets how long stack waits",
		e.Host, e.Method, e.Path, e.After, EnvCallTimeout)
}

// Is makes the error a context.DeadlineExceeded: a call that ran out of
// time, which the Docker client passes on as it is rather than as a failure
// to connect.
func (e *NotAnsweringError) Is(target error) bool { return target == context.DeadlineExceeded }

// boundedTransport fails a request whose response has not begun within
// bound (plus the grace period of a stop or restart, which the engine
// answers only once the container has stopped).
type boundedTransport struct {
	next  http.RoundTripper
	host  string
	bound time.Duration
}

// unansweredPings holds, by engine address, the error of a ping of this
// process that went unanswered. An engine that does not answer a ping is
// not answering at all: the calls that follow (the Docker client pings with
// HEAD, then with GET, then goes on with the call it was making) fail at
// once with that error rather than each waiting the bound again.
var unansweredPings sync.Map

var (
	versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)
	stopPath      = regexp.MustCompile(`^/containers/[^/]+/(stop|restart)$`)
)

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	if loc := versionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	bound, ok := b.boundOf(req, path)
	if !ok {
		return b.next.RoundTrip(req)
	}
	if err, unanswered := unansweredPings.Load(b.host); unanswered {
		return nil, err.(*NotAnsweringError)
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
			unansweredPings.Store(b.host, err)
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

// withCallBound puts a boundedTransport in front of the client's transport,
// for an engine reached over a unix socket or plain TCP. The Docker client
// dials hijacked calls (attach, exec, BuildKit sessions) itself when its
// transport is not an *http.Transport, which it does alike for those two;
// over TLS or ssh it would not find its dialer, so those engines keep the
// transport as it is, unbounded.
func withCallBound(host string) client.Opt {
	return func(c *client.Client) error {
		bound := CallTimeout()
		if host == "" {
			host = client.DefaultDockerHost
		}
		u, err := client.ParseHostURL(host)
		if bound <= 0 || err != nil || (u.Scheme != "unix" && u.Scheme != "tcp") || os.Getenv(client.EnvTLSVerify) != "" || os.Getenv(client.EnvOverrideCertPath) != "" {
			return nil
		}
		hc := c.HTTPClient()
		if _, ok := hc.Transport.(*http.Transport); !ok {
			return nil
		}
		hc.Transport = &boundedTransport{next: hc.Transport, host: host, bound: bound}
		return client.WithHTTPClient(hc)(c)
	}
}
