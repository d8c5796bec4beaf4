// Package orders is the orders API: pizzas ordered, kept in a JSON file
// (on a named volume in the compose project, so orders survive a redeploy).
package orders

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/examples/pizza/internal/serve"
)

// Menu is every pizza the kitchen makes.
var Menu = []string{"margherita", "marinara", "diavola", "quattro formaggi"}

// Order is one order as the API answers it.
type Order struct {
	ID       int       `json:"id"`
	Pizza    string    `json:"pizza"`
	Quantity int       `json:"quantity"`
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
}

// Store keeps the orders in memory and writes them all to one file after
// every change, replacing it atomically.
type Store struct {
	path   string
	mu     sync.Mutex
	orders []Order
}

// Open loads the orders from path; a missing file is an empty store.
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("reading orders: %w", err)
	}
	if err := json.Unmarshal(b, &s.orders); err != nil {
		return nil, fmt.Errorf("reading orders from %s: %w", path, err)
	}
	return s, nil
}

// Add stores a new order and returns it with its ID.
func (s *Store) Add(o Order) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o.ID = len(s.orders) + 1
	orders := append(slices.Clip(s.orders), o)
	if err := s.save(orders); err != nil {
		return Order{}, err
	}
	s.orders = orders
	return o, nil
}

// List returns every order, oldest first.
func (s *Store) List() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Order{}, s.orders...) // [] in JSON, not null, when empty
}

// Get returns the order with id.
func (s *Store) Get(id int) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.orders) {
		return Order{}, false
	}
	return s.orders[id-1], true
}

func (s *Store) save(orders []Order) error {
	b, err := json.MarshalIndent(orders, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".orders-*")
	if err != nil {
		return fmt.Errorf("saving orders: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("saving orders: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving orders: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving orders: %w", err)
	}
	return nil
}

// NewHandler serves:
//
//	GET  /api/orders        every order
//	POST /api/orders        {"pizza": "margherita", "quantity": 2} -> 201 the order
//	GET  /api/orders/{id}   one order
func NewHandler(s *Store, now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/orders", func(w http.ResponseWriter, _ *http.Request) {
		serve.JSON(w, http.StatusOK, s.List())
	})
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		var o Order
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&o); err != nil {
			http.Error(w, "reading order: "+err.Error(), http.StatusBadRequest)
			return
		}
		o.Pizza = strings.ToLower(strings.TrimSpace(o.Pizza))
		if !slices.Contains(Menu, o.Pizza) {
			http.Error(w, fmt.Sprintf("no pizza %q on the menu: %s", o.Pizza, strings.Join(Menu, ", ")), http.StatusBadRequest)
			return
		}
		if o.Quantity == 0 {
			o.Quantity = 1
		}
		if o.Quantity < 0 || o.Quantity > 20 {
			http.Error(w, fmt.Sprintf("quantity %d: order 1 to 20 pizzas", o.Quantity), http.StatusBadRequest)
			return
		}
		o.Status, o.Created = "received", now().UTC()
		o, err := s.Add(o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serve.JSON(w, http.StatusCreated, o)
	})
	mux.HandleFunc("GET /api/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		o, ok := s.Get(id)
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("no order %q", r.PathValue("id")), http.StatusNotFound)
			return
		}
		serve.JSON(w, http.StatusOK, o)
	})
	return mux
}
