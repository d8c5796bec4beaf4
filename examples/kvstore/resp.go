package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Redis is a minimal client for the Redis protocol (RESP2): enough for PING,
// GET and SET. A real app would use github.com/redis/go-redis; this one stays
// stdlib-only so the example builds with nothing to download.
type Redis struct {
	addr string
	idle chan *redisConn // reusable connections; full means close instead
}

type redisConn struct {
	net.Conn
	r *bufio.Reader
}

// errNil is the reply to GET for a key that does not exist.
var errNil = errors.New("redis: nil")

// NewRedis returns a client for the server at addr (host:port). It does not
// connect until the first command.
func NewRedis(addr string) *Redis {
	return &Redis{addr: addr, idle: make(chan *redisConn, 8)}
}

// Do sends one command and returns its reply: a string for simple strings,
// bulk strings and integers, errNil for a nil bulk string, and an error for
// an error reply.
func (c *Redis) Do(ctx context.Context, args ...string) (string, error) {
	conn, err := c.conn(ctx)
	if err != nil {
		return "", err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	reply, err := roundTrip(conn.Conn, conn.r, args)
	var serverErr redisError
	if err != nil && !errors.Is(err, errNil) && !errors.As(err, &serverErr) {
		conn.Close() // the stream may be out of step: never reuse it
		return "", fmt.Errorf("redis %s: %w", args[0], err)
	}
	select {
	case c.idle <- conn:
	default:
		conn.Close()
	}
	return reply, err
}

func (c *Redis) conn(ctx context.Context) (*redisConn, error) {
	select {
	case conn := <-c.idle:
		return conn, nil
	default:
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to redis at %s: %w", c.addr, err)
	}
	return &redisConn{Conn: nc, r: bufio.NewReader(nc)}, nil
}

// Close closes the idle connections.
func (c *Redis) Close() {
	for {
		select {
		case conn := <-c.idle:
			conn.Close()
		default:
			return
		}
	}
}

type redisError string

func (e redisError) Error() string { return "redis: " + string(e) }

// roundTrip writes args as a RESP array of bulk strings and reads one reply.
func roundTrip(w io.Writer, r *bufio.Reader, args []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return "", err
	}
	return readReply(r)
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", redisError(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", errNil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("unsupported reply %q", line)
	}
}
