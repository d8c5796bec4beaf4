package gateway_test

import (
	"reflect"
	"testing"

	"github.com/stack-deploy/stack/gateway"
)

// TestRoutes: the routes of each service come back from the config.
func TestRoutes(t *testing.T) {
	p := load(t, `{ports: ["80:80"]}`, `[{path: /api}, {host: shop.example.com, path: /}]`)
	cfg, err := gateway.Config(p.Stack.Gateway, p.GatewayRoutes(), map[string][]string{"web": {"10.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := gateway.Routes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"web": {"/api", "shop.example.com/"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Routes = %v, want %v", got, want)
	}
	if _, err := gateway.Routes([]byte("not json")); err == nil {
		t.Error("Routes of garbage: no error")
	}
}
