package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "+OK\r\n", want: "OK"},
		{in: ":12\r\n", want: "12"},
		{in: "$5\r\nhello\r\n", want: "hello"},
		{in: "$0\r\n\r\n", want: ""},
		{in: "$-1\r\n", wantErr: "redis: nil"},
		{in: "-ERR wrong type\r\n", wantErr: "redis: ERR wrong type"},
		{in: "*1\r\n$1\r\na\r\n", wantErr: `unsupported reply "*1"`},
		{in: "$x\r\n", wantErr: "bad bulk length"},
		{in: "$5\r\nhel", wantErr: "EOF"},
	}
	for _, tt := range tests {
		got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("readReply(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("readReply(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestRedisClient runs the client against a fake server on loopback that
// answers SET/GET from a map, checking the bytes the client sends and that a
// connection is reused.
func TestRedisClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		data := map[string]string{}
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go fakeRedis(conn, data)
		}
	}()
	c := NewRedis(ln.Addr().String())
	defer c.Close()
	s := redisStore{c}
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "a", "1 2\r\n3"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "a"); err != nil || !ok || v != "1 2\r\n3" {
		t.Fatalf("Get(a) = %q, %v, %v", v, ok, err)
	}
	if _, ok, err := s.Get(ctx, "b"); err != nil || ok {
		t.Fatalf("Get(b) = ok %v, err %v; want not found", ok, err)
	}
	if _, err := c.Do(ctx, "BOOM"); err == nil || !errors.As(err, new(redisError)) {
		t.Fatalf("BOOM: err = %v, want a redisError", err)
	}
	if n := len(accepted); n != 1 {
		t.Errorf("%d connections for 5 sequential commands, want 1 reused", n)
	}
}

func fakeRedis(conn net.Conn, data map[string]string) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		var reply string
		switch strings.ToUpper(args[0]) {
		case "PING":
			reply = "+PONG\r\n"
		case "SET":
			data[args[1]] = args[2]
			reply = "+OK\r\n"
		case "GET":
			if v, ok := data[args[1]]; ok {
				reply = "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n"
			} else {
				reply = "$-1\r\n"
			}
		default:
			reply = "-ERR unknown command\r\n"
		}
		if _, err := conn.Write([]byte(reply)); err != nil {
			return
		}
	}
}

func readCommand(r *bufio.Reader) ([]string, error) {
	var n int
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Sscanf(line, "*%d\r\n", &n); err != nil {
		return nil, err
	}
	args := make([]string, n)
	for i := range args {
		v, err := readReply(r)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}
