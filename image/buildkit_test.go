package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"
	controlapi "github.com/moby/buildkit/api/services/control"
	apitypes "github.com/moby/buildkit/api/types"
	"google.golang.org/grpc"
)

// fakeControl is BuildKit's control API answering ListWorkers with one
// worker named after the transport that reached it.
type fakeControl struct {
	controlapi.UnimplementedControlServer
	transport string
}

func (c *fakeControl) ListWorkers(context.Context, *controlapi.ListWorkersRequest) (*controlapi.ListWorkersResponse, error) {
	return &controlapi.ListWorkersResponse{Record: []*apitypes.WorkerRecord{{ID: c.transport}}}, nil
}

// connListener accepts one connection, then waits until closed.
type connListener struct {
	conn             net.Conn
	accept, shutdown sync.Once
	done             chan struct{}
}

func (l *connListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.accept.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *connListener) Close() error {
	l.shutdown.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.conn.LocalAddr() }

// fakeEngine serves, on a unix socket, what ConnectBuildKit asks of an
// engine: _ping with an API version, the hijacked /grpc upgrade (grpc),
// and gRPC over HTTP/2 on the socket itself (native), as moby does.
func fakeEngine(t *testing.T, api string, native, upgrade bool) string {
	t.Helper()
	hijacked, direct := grpc.NewServer(), grpc.NewServer()
	controlapi.RegisterControlServer(hijacked, &fakeControl{transport: "hijacked /grpc"})
	controlapi.RegisterControlServer(direct, &fakeControl{transport: "native"})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc"):
			direct.ServeHTTP(w, r)
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Header().Set("Api-Version", api)
			fmt.Fprint(w, "OK")
		case r.URL.Path == "/grpc" && upgrade && r.Header.Get("Upgrade") == "h2c":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprint(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
			// HTTP/2 from here on, as moby serves it (an http2.Server on
			// the hijacked connection).
			var p http.Protocols
			p.SetUnencryptedHTTP2(true)
			h2 := &http.Server{Handler: hijacked, Protocols: &p}
			t.Cleanup(func() { _ = h2.Close() })
			_ = h2.Serve(&connListener{conn: conn, done: make(chan struct{})})
		default:
			http.NotFound(w, r)
		}
	})
	srv := &http.Server{Handler: h}
	if native {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		hijacked.Stop()
		direct.Stop()
	})
	return "unix://" + sock
}

// ConnectBuildKit speaks gRPC over HTTP/2 to an engine of API 1.53 or later
// that serves it, and upgrades POST /grpc otherwise: on engine 20.10, and
// behind a proxy of the socket that speaks only HTTP/1.1. An engine that
// has neither is an error, which makes builds take the classic builder.
func TestConnectBuildKit(t *testing.T) {
	tests := []struct {
		name            string
		api             string
		native, upgrade bool
		want            string
	}{
		{"engine 20.10", "1.41", false, true, "hijacked /grpc"},
		{"API 1.53, gRPC on the socket", "1.53", true, true, "native"},
		{"API 1.53 behind an HTTP/1.1 proxy", "1.53", false, true, "hijacked /grpc"},
		{"no BuildKit", "1.38", false, false, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.NewClientWithOpts(client.WithHost(fakeEngine(t, tt.api, tt.native, tt.upgrade)), client.WithAPIVersionNegotiation())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			bk, err := ConnectBuildKit(t.Context(), c)
			if tt.want == "error" {
				if !errors.Is(err, ErrNoBuildKit) {
					t.Fatalf("ConnectBuildKit: %v, want an error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ws, err := bk.ListWorkers(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 1 || ws[0].ID != tt.want {
				t.Fatalf("reached %v, want %s", ws, tt.want)
			}
		})
	}
}
