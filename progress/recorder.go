package progress

import "sync"

// Recorder is a Sink that keeps every event, for tests and for callers that
// report after the fact. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Event records e.
func (r *Recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
