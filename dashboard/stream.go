package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// backlogLength is how many of the last events and log lines a page gets
// when it opens.
const backlogLength = 200

// message is one server-sent event: its name and JSON data.
type message struct {
	name string
	data []byte
}

// publish sends v to every open page as the event name; events and log
// lines are kept for the pages that open later. A page that does not keep
// up loses messages rather than slowing the others.
func (s *Server) publish(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(err.Error())
		name = "notice"
	}
	m := message{name: name, data: data}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "state" {
		kept := append(s.backlog[name], m)
		if len(kept) > backlogLength {
			kept = kept[len(kept)-backlogLength:]
		}
		s.backlog[name] = kept
	}
	for c := range s.clients {
		select {
		case c <- m:
		default:
		}
	}
}

func (s *Server) listening() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients) > 0
}

// subscribe adds a page: it gets the backlog, then what is published.
func (s *Server) subscribe() (chan message, []message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(chan message, 256)
	s.clients[c] = true
	var old []message
	for _, name := range []string{"notice", "event", "log"} {
		old = append(old, s.backlog[name]...)
	}
	return c, old
}

func (s *Server) unsubscribe(c chan message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients[c] {
		delete(s.clients, c)
		close(c)
	}
}

func (s *Server) closeClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		delete(s.clients, c)
		close(c)
	}
}

// stream is GET /events: the page's server-sent events, the state first.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	c, old := s.subscribe()
	defer s.unsubscribe(c)
	first, _ := json.Marshal(s.board.snapshot(time.Now()))
	write := func(m message) bool {
		_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.name, m.data)
		return err == nil
	}
	if !write(message{name: "state", data: first}) {
		return
	}
	for _, m := range old {
		if !write(m) {
			return
		}
	}
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case m, ok := <-c:
			if !ok || !write(m) {
				return
			}
			flusher.Flush()
		}
	}
}
