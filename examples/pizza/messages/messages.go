// Package messages is the chat-bot API: a customer writes, the bot answers,
// and "order margherita" places an order through the orders API.
package messages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
	"github.com/stack-deploy/stack/examples/pizza/orders"
)

// Message is one line of the conversation.
type Message struct {
	From string    `json:"from"` // "you" or "bot"
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Orders is what the bot needs from the orders API.
type Orders interface {
	Place(ctx context.Context, pizza string) (orders.Order, error)
	Get(ctx context.Context, id int) (orders.Order, error)
}

// RejectedError is the orders API's answer to an order it refused.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "order rejected: " + e.Reason }

// maxLog is how many messages the bot remembers: the container has 32M.
const maxLog = 200

// Bot answers messages and remembers the last maxLog of the conversation (in
// memory: it is only chat, the orders are kept by the orders service).
type Bot struct {
	orders Orders
	now    func() time.Time
	mu     sync.Mutex
	log    []Message
}

// NewBot returns a bot placing orders through o.
func NewBot(o Orders, now func() time.Time) *Bot {
	return &Bot{orders: o, now: now}
}

// Reply answers one message.
func (b *Bot) Reply(ctx context.Context, text string) string {
	words := strings.Fields(strings.ToLower(text))
	switch {
	case len(words) == 0:
		return "Say something! \"menu\" lists the pizzas."
	case words[0] == "menu":
		return "Today: " + strings.Join(orders.Menu, ", ") + ". Say \"order margherita\"."
	case words[0] == "order" && len(words) > 1:
		o, err := b.orders.Place(ctx, strings.Join(words[1:], " "))
		var rejected *RejectedError
		if errors.As(err, &rejected) {
			return "Sorry: " + rejected.Reason + "."
		}
		if err != nil {
			return "The kitchen is not answering, try again in a minute."
		}
		return fmt.Sprintf("Order #%d placed: %s. Say \"status %d\" to follow it.", o.ID, o.Pizza, o.ID)
	case words[0] == "status" && len(words) == 2:
		id, err := strconv.Atoi(strings.TrimPrefix(words[1], "#"))
		if err != nil {
			return fmt.Sprintf("%q is not an order number.", words[1])
		}
		o, err := b.orders.Get(ctx, id)
		if err != nil {
			return fmt.Sprintf("I cannot find order #%d.", id)
		}
		return fmt.Sprintf("Order #%d (%d x %s): %s.", o.ID, o.Quantity, o.Pizza, o.Status)
	default:
		return "Hi! I take pizza orders. Say \"menu\", \"order margherita\" or \"status 1\"."
	}
}

// NewHandler serves:
//
//	GET  /api/messages   the conversation
//	POST /api/messages   {"text": "order diavola"} -> the bot's answer
func NewHandler(b *Bot) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/messages", func(w http.ResponseWriter, _ *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		serve.JSON(w, http.StatusOK, append([]Message{}, b.log...))
	})
	mux.HandleFunc("POST /api/messages", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
			http.Error(w, "reading message: "+err.Error(), http.StatusBadRequest)
			return
		}
		reply := Message{From: "bot", Text: b.Reply(r.Context(), in.Text), At: b.now().UTC()}
		b.mu.Lock()
		b.log = append(b.log, Message{From: "you", Text: in.Text, At: b.now().UTC()}, reply)
		if len(b.log) > maxLog {
			b.log = slices.Delete(b.log, 0, len(b.log)-maxLog)
		}
		b.mu.Unlock()
		serve.JSON(w, http.StatusOK, reply)
	})
	return mux
}
