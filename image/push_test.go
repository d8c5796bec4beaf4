package image

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestHasRegistry(t *testing.T) {
	for ref, want := range map[string]bool{
		"127.0.0.1:5000/shop/web:1": true,
		"localhost/web":             true,
		"ghcr.io/o/web":             true,
		"docker.io/library/redis":   true,
		"redis:7-alpine":            false,
		"shop/web":                  false,
		"p-web":                     false,
	} {
		if got := hasRegistry(ref); got != want {
			t.Errorf("hasRegistry(%q) = %v, want %v", ref, got, want)
		}
	}
}

// staticKeychain hands out one user and password for every registry.
type staticKeychain struct{ user, password string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.password}, nil
}

func TestPushRetries(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		name     string
		failures []string // the error of each attempt before success
		attempts int
		wantErr  string // "" means success
		wantTry  int
	}{
		{"success", nil, 3, "", 1},
		{"transient then success", []string{"received unexpected HTTP status: 503 Service Unavailable", "dial tcp: connection refused"}, 3, "", 3},
		{"transient beyond the bound", []string{"502 Bad Gateway", "502 Bad Gateway", "502 Bad Gateway"}, 3, "attempt 3 of 3", 3},
		{"refused credentials are not retried", []string{"unauthorized: authentication required for stack:" + secret}, 3, "registry refused the credentials", 1},
		{"a permanent error is not retried", []string{"manifest invalid"}, 3, "manifest invalid", 1},
		{"digits in a digest are no status code", []string{"blob unknown: sha256:ab401c5003e0"}, 3, "blob unknown", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: 127.0.0.1:5000/shop/web:1\n"})
			tries := 0
			f := &fakeClient{push: func(string) (string, error) {
				tries++
				if tries <= len(tt.failures) {
					return "", errors.New(tt.failures[tries-1])
				}
				return "sha256:abc", nil
			}}
			b := newFakeBuilder(t, f, WithRetries(tt.attempts, 0), WithKeychain(staticKeychain{"stack", secret}))
			pushed, err := b.Push(t.Context(), p, nil)
			if tries != tt.wantTry {
				t.Errorf("%d attempts, want %d", tries, tt.wantTry)
			}
			if tt.wantErr == "" {
				if err != nil || len(pushed) != 1 || pushed[0].Digest != "sha256:abc" || pushed[0].Ref != "127.0.0.1:5000/shop/web:1" {
					t.Fatalf("Push = %v, %v", pushed, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Push error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
