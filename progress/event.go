package progress

import (
	"context"
	"time"
)

// Status is where a resource's action stands.
type Status string

// The statuses an Event can carry.
const (
	Working Status = "working" // the action is under way
	Done    Status = "done"    // the action finished
	Skipped Status = "skipped" // not attempted, e.g. a dependency failed
	Failed  Status = "failed"  // the action failed; Err says why
	Info    Status = "info"    // a message about the resource, no state change
	Warning Status = "warning" // something the user should know; nothing failed
)

// Event is one step of work on one resource.
type Event struct {
	// Resource names what the event is about: "service:web", "network:default",
	// "image:web", "container:shop-web-1".
	Resource string `json:"resource"`
	// Action is what is done to it: "create", "recreate", "start", "build", ...
	Action string `json:"action"`
	Status Status `json:"status"`
	// Message is human detail: a build log line, a reason, a digest.
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
	// Err is set when Status is Failed.
	Err error `json:"-"`
	// Op is set on the events of single engine operations ("create
	// container:shop-web-1"), which carry out the action on Resource: a
	// machine reading --progress json follows every call; the line
	// renderers show only the resources.
	Op string `json:"op,omitempty"`
}

// Sink receives events. Implementations must be safe for concurrent use.
type Sink interface {
	Event(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Event calls f(e).
func (f SinkFunc) Event(e Event) { f(e) }

// Discard drops every event.
var Discard Sink = SinkFunc(func(Event) {})

type sinkKey struct{}

// WithSink returns a context that carries s.
func WithSink(ctx context.Context, s Sink) context.Context {
	return context.WithValue(ctx, sinkKey{}, s)
}

// FromContext returns the context's Sink, or Discard.
func FromContext(ctx context.Context) Sink {
	if s, ok := ctx.Value(sinkKey{}).(Sink); ok {
		return s
	}
	return Discard
}

// Report sends an event to the context's sink, stamping the time.
func Report(ctx context.Context, resource, action string, status Status, message string, err error) {
	FromContext(ctx).Event(Event{Resource: resource, Action: action, Status: status, Message: message, Time: time.Now(), Err: err})
}
