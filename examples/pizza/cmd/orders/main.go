// Command orders serves the orders API, keeping orders in $DATA_DIR/orders.json
// (default /data, a named volume in compose.yaml).
package main

import (
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
	"github.com/stack-deploy/stack/examples/pizza/orders"
)

func main() {
	serve.Main("orders", func() (http.Handler, error) {
		dir := os.Getenv("DATA_DIR")
		if dir == "" {
			dir = "/data"
		}
		s, err := orders.Open(filepath.Join(dir, "orders.json"))
		if err != nil {
			return nil, err
		}
		return orders.NewHandler(s, time.Now), nil
	})
}
