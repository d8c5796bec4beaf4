package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/orders"
)

// OrdersClient talks to the orders API at Base.
type OrdersClient struct {
	Base *url.URL
	HTTP *http.Client
}

// NewOrdersClient returns a client for the orders API at base.
func NewOrdersClient(base *url.URL) *OrdersClient {
	return &OrdersClient{Base: base, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Place orders one pizza; a refusal by the API is a *RejectedError.
func (c *OrdersClient) Place(ctx context.Context, pizza string) (orders.Order, error) {
	body, _ := json.Marshal(orders.Order{Pizza: pizza, Quantity: 1})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base.JoinPath("/api/orders").String(), bytes.NewReader(body))
	if err != nil {
		return orders.Order{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, http.StatusCreated)
}

// Get returns order id.
func (c *OrdersClient) Get(ctx context.Context, id int) (orders.Order, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base.JoinPath("/api/orders", strconv.Itoa(id)).String(), nil)
	if err != nil {
		return orders.Order{}, err
	}
	return c.do(req, http.StatusOK)
}

func (c *OrdersClient) do(req *http.Request, want int) (orders.Order, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return orders.Order{}, fmt.Errorf("asking the orders API: %w", err)
	}
	defer resp.Body.Close()
	var o orders.Order
	switch {
	case resp.StatusCode == want:
		if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
			return o, fmt.Errorf("reading the orders API's answer: %w", err)
		}
		return o, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return o, &RejectedError{Reason: strings.TrimSpace(string(msg))}
	default:
		return o, fmt.Errorf("orders API: %s", resp.Status)
	}
}
