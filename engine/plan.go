package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stack-deploy/stack/manifest"
)

// Kind is what an action does to its resource.
type Kind string

// The kinds of action a Plan holds.
const (
	Create    Kind = "create"    // the resource does not exist yet
	Recreate  Kind = "recreate"  // its containers are replaced: the config hash changed
	Start     Kind = "start"     // its containers exist, current, but stopped
	Restart   Kind = "restart"   // a dependency with `restart: true` was replaced, or `stack restart`
	Stop      Kind = "stop"      // its containers are stopped and kept (`stack stop`)
	Scale     Kind = "scale"     // replicas are added or removed, the rest stay
	Remove    Kind = "remove"    // the resource goes: orphan, down, scale-down
	Repair    Kind = "repair"    // kept, and brought back in line: a network reconnected, a leftover or duplicate removed
	Adopt     Kind = "adopt"     // one of its name exists that stack did not create: used as it is
	Reload    Kind = "reload"    // the gateway's routes are loaded again, without a restart
	Unchanged Kind = "unchanged" // nothing to do
)

// Condition is what "done" means for a service action, and so what its
// dependants wait for.
type Condition string

// The readiness conditions, after compose's depends_on conditions.
const (
	Started   Condition = "started"   // containers started
	Healthy   Condition = "healthy"   // started and their healthcheck passes
	Completed Condition = "completed" // ran to completion with exit code 0
)

// Action is one step of a Plan on one resource ("service:web",
// "network:default", "volume:data", "image:web").
type Action struct {
	Resource string `json:"resource"`
	Kind     Kind   `json:"action"`
	Reason   string `json:"reason,omitempty"`
	// WaitsFor lists the resources whose actions must finish first.
	WaitsFor []string `json:"waits_for,omitempty"`
	// Optional lists the WaitsFor entries whose failure does not stop this
	// action (depends_on with required: false).
	Optional []string `json:"optional,omitempty"`
	// AfterStart lists the WaitsFor entries this action needs started only,
	// not ready (depends_on with condition service_started), or for removals
	// stopped only, not removed (down stops a dependency once its dependants
	// have stopped).
	AfterStart []string `json:"after_start,omitempty"`
	// Ready is what finishing means for a service: its dependants start then.
	Ready Condition `json:"ready,omitempty"`
	// ConfigHash is the service's desired config hash.
	ConfigHash  string `json:"config_hash,omitempty"`
	ConfigParts string `json:"-"`
	// Recreate is how the replicas whose configuration is current are
	// treated: replaced anyway (force, `up --force-recreate`), or those
	// whose configuration changed kept (never, `up --no-recreate`).
	Recreate RecreatePolicy `json:"recreate,omitempty"`
	// RenewAnonymous gives the replicas that replace others new anonymous
	// volumes instead of theirs (`up -V`).
	RenewAnonymous bool `json:"renew_anonymous,omitempty"`
	// OneOff marks an action on a service's one-off runs (`stack run`),
	// "service:<name>-run", not on its replicas: down removes them.
	OneOff bool `json:"oneoff,omitempty"`
	// Orphan marks a service that is gone from the manifest.
	Orphan bool `json:"orphan,omitempty"`
	// Stale marks a network or volume whose definition changed: it is kept
	// (replacing it would disconnect containers or lose data) and the user
	// is warned.
	Stale bool `json:"stale,omitempty"`
	// Volumes makes a service removal remove its containers' anonymous
	// volumes too (`down -v`).
	Volumes bool `json:"volumes,omitempty"`
	// Update is how a service's replicas are replaced.
	Update *Update `json:"update,omitempty"`
	// Resources are the observed networks or volumes a network or volume
	// action acts on: the duplicates a repair removes, every one of the
	// key that down removes.
	Resources []Resource `json:"-"`
}

// RecreatePolicy is an action's policy for replicas that exist, after
// Compose's --force-recreate and --no-recreate.
type RecreatePolicy string

// The recreate policies: the default replaces the replicas whose
// configuration diverged.
const (
	RecreateDiverged RecreatePolicy = ""
	RecreateForce    RecreatePolicy = "force"
	RecreateNever    RecreatePolicy = "never"
)

// OneOffSuffix ends the resource name of an action on a service's one-off
// runs.
const OneOffSuffix = "-run"

// Service is the service a service action acts on: its name, without
// OneOffSuffix for its one-off runs.
func (a *Action) Service() string {
	if a.OneOff {
		return strings.TrimSuffix(a.Name(), OneOffSuffix)
	}
	return a.Name()
}

// Type is the resource type: "service", "network", "volume" or "image".
func (a *Action) Type() string { t, _, _ := strings.Cut(a.Resource, ":"); return t }

// Name is the resource's name within its type.
func (a *Action) Name() string { _, n, _ := strings.Cut(a.Resource, ":"); return n }

// Plan is the ordered list of actions that converges a project.
type Plan struct {
	Project string    `json:"project"`
	Actions []*Action `json:"actions"`
	// Desired is the project the plan converges to, with Images the image
	// ID of each service (empty when unknown); Observed is what the plan was
	// made from. The driver reads them to carry out the actions.
	Desired  *manifest.Project `json:"-"`
	Images   map[string]string `json:"-"`
	Observed *Observed         `json:"-"`
	// Atomic makes the whole run one transaction: when any step fails,
	// every service it replaced or created returns to what ran before
	// (`up --atomic`, and deploys of a release lock).
	Atomic bool `json:"atomic,omitempty"`
	// Graph is the engine calls that carry the plan out, made by the
	// driver (Driver.Operations); nil until then.
	Graph *Graph `json:"-"`
	// Gateway is the project's gateway as Desired asks for it (nil: none),
	// worked out once for the driver.
	Gateway *GatewaySpec `json:"-"`
}

// Changes counts the actions that change something.
func (p *Plan) Changes() int {
	n := 0
	for _, a := range p.Actions {
		if a.Kind != Unchanged {
			n++
		}
	}
	return n
}

// Action returns the action on resource, or nil.
func (p *Plan) Action(resource string) *Action {
	for _, a := range p.Actions {
		if a.Resource == resource {
			return a
		}
	}
	return nil
}

// Text renders the plan as aligned lines, one per resource:
//
//	service:web  recreate  environment changed
func (p *Plan) Text() string {
	w0, w1 := 0, 0
	for _, a := range p.Actions {
		w0 = max(w0, len(a.Resource))
		w1 = max(w1, len(a.Kind))
	}
	var b strings.Builder
	for _, a := range p.Actions {
		line := fmt.Sprintf("%-*s  %-*s  %s", w0, a.Resource, w1, a.Kind, a.Reason)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

// JSON renders the plan as one indented JSON document.
func (p *Plan) JSON() ([]byte, error) {
	out := struct {
		*Plan
		Changes    int   `json:"changes"`
		Operations []*Op `json:"operations"`
	}{p, p.Changes(), nil}
	if p.Graph != nil {
		out.Operations = p.Graph.Ops
	}
	return json.MarshalIndent(out, "", "  ")
}
