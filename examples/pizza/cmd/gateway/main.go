// Command gateway is the pizza shop's single entry point. It finds the
// services it routes to only through the variables stack injects for its
// dependencies: MESSAGES_HOST/PORT, ORDERS_HOST/PORT and WEB_HOST/PORT.
package main

import (
	"net/http"
	"os"

	"github.com/stack-deploy/stack/examples/pizza/gateway"
	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
)

func main() {
	serve.Main("gateway", func() (http.Handler, error) {
		var routes []gateway.Route
		for _, r := range []struct{ name, env, prefix string }{
			{"messages", "MESSAGES", "/api/messages"},
			{"orders", "ORDERS", "/api/orders"},
			{"web", "WEB", "/"},
		} {
			target, err := serve.Upstream(os.Getenv, r.env)
			if err != nil {
				return nil, err
			}
			routes = append(routes, gateway.Route{Name: r.name, Prefix: r.prefix, Target: target})
		}
		return gateway.New(routes), nil
	})
}
