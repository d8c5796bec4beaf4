package dockerclient

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEndpoint(t *testing.T) {
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("remote"))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(meta, "meta.json"), `{"Name":"remote","Endpoints":{"docker":{"Host":"ssh://deploy@build-1"}}}`)
	write(filepath.Join(dir, "config.json"), `{"currentContext":"remote"}`)

	tests := []struct {
		name, host, context, want, err string
	}{
		{name: "DOCKER_HOST wins", host: "tcp://10.0.0.1:2375", want: "tcp://10.0.0.1:2375"},
		{name: "current context of config.json", want: "ssh://deploy@build-1"},
		{name: "DOCKER_CONTEXT", context: "remote", want: "ssh://deploy@build-1"},
		{name: "default context", context: "default", want: ""},
		{name: "unknown context", context: "nope", err: `docker context "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", dir)
			t.Setenv("DOCKER_HOST", tt.host)
			t.Setenv("DOCKER_CONTEXT", tt.context)
			got, err := Endpoint()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Endpoint() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNewClientForSSHHostDialsThroughSSH(t *testing.T) {
	c, err := NewForHost("ssh://deploy@build-1.invalid")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The request goes through the ssh command, which cannot resolve the
	// host: its complaint proves the path; no engine is reached.
	_, err = c.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), "build-1.invalid") {
		t.Fatalf("ping over ssh: %v, want ssh's error naming the host", err)
	}
}
