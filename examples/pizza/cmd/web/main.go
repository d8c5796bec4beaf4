// Command web serves the pizza shop's page.
package main

import (
	"net/http"

	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
	"github.com/stack-deploy/stack/examples/pizza/web"
)

func main() {
	serve.Main("web", func() (http.Handler, error) { return web.NewHandler(), nil })
}
