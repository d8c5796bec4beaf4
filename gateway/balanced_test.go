package gateway_test

import (
	"bytes"
	"testing"

	"github.com/stack-deploy/stack/gateway"
)

// TestConfigBalanced: an upstream that balances itself (a Kubernetes
// Service's name) is never passed over after a failure, which would
// refuse every request for the fail duration; one per replica is.
func TestConfigBalanced(t *testing.T) {
	p := load(t, `{ports: ["80:80"]}`, `{path: /}`)
	for _, tt := range []struct {
		o       gateway.Options
		passive bool
	}{{gateway.Options{}, true}, {gateway.Options{Balanced: true}, false}} {
		got, err := gateway.ConfigWith(p.Stack.Gateway, p.GatewayRoutes(), map[string][]string{"web": {"web"}}, tt.o)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte(`"dial": "web:`)) {
			t.Errorf("%+v: no upstream web in:\n%s", tt.o, got)
		}
		if bytes.Contains(got, []byte(`"passive"`)) != tt.passive {
			t.Errorf("%+v: passive health check present = %v, want %v", tt.o, !tt.passive, tt.passive)
		}
		if bytes.Contains(got, []byte(`"dial_timeout": "1s"`)) == tt.passive || bytes.Contains(got, []byte(`"try_duration": "15s"`)) == tt.passive {
			t.Errorf("%+v: dials of 1s for 15s = %v, want %v:\n%s", tt.o, tt.passive, !tt.passive, got)
		}
	}
}
