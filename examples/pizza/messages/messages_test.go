package messages

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/orders"
)

// fakeOrders places orders in memory; err, when set, is returned instead.
type fakeOrders struct {
	placed []orders.Order
	err    error
}

func (f *fakeOrders) Place(_ context.Context, pizza string) (orders.Order, error) {
	if f.err != nil {
		return orders.Order{}, f.err
	}
	o := orders.Order{ID: len(f.placed) + 1, Pizza: pizza, Quantity: 1, Status: "received"}
	f.placed = append(f.placed, o)
	return o, nil
}

func (f *fakeOrders) Get(_ context.Context, id int) (orders.Order, error) {
	if id < 1 || id > len(f.placed) {
		return orders.Order{}, errors.New("404")
	}
	return f.placed[id-1], nil
}

func TestReply(t *testing.T) {
	tests := []struct {
		name, text string
		ordersErr  error
		want       string
	}{
		{name: "greeting", text: "hello", want: `Hi! I take pizza orders.`},
		{name: "empty", text: "  ", want: `Say something!`},
		{name: "menu", text: "Menu please", want: "Today: margherita, marinara, diavola, quattro formaggi."},
		{name: "order", text: "order Quattro Formaggi", want: `Order #1 placed: quattro formaggi. Say "status 1" to follow it.`},
		{name: "rejected", text: "order hawaii", ordersErr: &RejectedError{Reason: `no pizza "hawaii" on the menu`}, want: `Sorry: no pizza "hawaii" on the menu.`},
		{name: "orders down", text: "order diavola", ordersErr: errors.New("connection refused"), want: "The kitchen is not answering"},
		{name: "status", text: "status #1", want: "Order #1 (1 x margherita): received."},
		{name: "status unknown", text: "status 9", want: "I cannot find order #9."},
		{name: "status not a number", text: "status one", want: `"one" is not an order number.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOrders{}
			if strings.HasPrefix(tt.text, "status") {
				f.placed = []orders.Order{{ID: 1, Pizza: "margherita", Quantity: 1, Status: "received"}}
			}
			f.err = tt.ordersErr
			got := NewBot(f, time.Now).Reply(context.Background(), tt.text)
			if !strings.Contains(got, tt.want) {
				t.Errorf("Reply(%q) = %q, want it to contain %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestBotThroughOrdersAPI runs the bot's HTTP API against the real orders
// handler over HTTP, as the two containers talk in the stack.
func TestBotThroughOrdersAPI(t *testing.T) {
	store, err := orders.Open(filepath.Join(t.TempDir(), "orders.json"))
	if err != nil {
		t.Fatal(err)
	}
	ordersSrv := httptest.NewServer(orders.NewHandler(store, time.Now))
	defer ordersSrv.Close()
	base, _ := url.Parse(ordersSrv.URL)
	h := NewHandler(NewBot(NewOrdersClient(base), time.Now))

	say := func(text string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/messages", strings.NewReader(`{"text":"`+text+`"}`)))
		if rec.Code != 200 {
			t.Fatalf("POST %q: %d %s", text, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	for _, step := range []struct{ say, want string }{
		{"order diavola", `Order #1 placed: diavola.`},
		{"order hawaii", `Sorry: no pizza \"hawaii\" on the menu: margherita, marinara, diavola, quattro formaggi.`},
		{"status 1", `Order #1 (1 x diavola): received.`},
	} {
		if got := say(step.say); !strings.Contains(got, step.want) {
			t.Errorf("say %q: got %s, want %s", step.say, got, step.want)
		}
	}
	if n := len(store.List()); n != 1 {
		t.Errorf("orders stored: %d, want 1", n)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/messages", nil))
	if got := strings.Count(rec.Body.String(), `"from":`); got != 6 {
		t.Errorf("conversation has %d messages, want 6: %s", got, rec.Body)
	}
}

func TestConversationIsBounded(t *testing.T) {
	h := NewHandler(NewBot(&fakeOrders{}, time.Now))
	for i := 0; i < maxLog; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/messages", strings.NewReader(`{"text":"menu"}`)))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/messages", nil))
	if got := strings.Count(rec.Body.String(), `"from":`); got != maxLog {
		t.Errorf("conversation holds %d messages after %d exchanges, want the last %d", got, maxLog, maxLog)
	}
	if !strings.HasPrefix(rec.Body.String(), `[{"from":"you"`) {
		t.Errorf("conversation does not start with a question: %.60s", rec.Body)
	}
}
