// Command messages serves the chat-bot API. It finds the orders API through
// ORDERS_HOST and ORDERS_PORT, injected by stack.
package main

import (
	"net/http"
	"os"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
	"github.com/stack-deploy/stack/examples/pizza/messages"
)

func main() {
	serve.Main("messages", func() (http.Handler, error) {
		base, err := serve.Upstream(os.Getenv, "ORDERS")
		if err != nil {
			return nil, err
		}
		return messages.NewHandler(messages.NewBot(messages.NewOrdersClient(base), time.Now)), nil
	})
}
