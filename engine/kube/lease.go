package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/progress"
)

// LeaseName is the name of a project's deploy lock, a coordination.k8s.io
// Lease in its namespace.
const LeaseName = "stack-deploy-lock"

// annotationHolder holds the lock.Holder of a Lease, as JSON.
const annotationHolder = "io.stack.lock.holder"

// leaseRetry is how often a waiting Acquire looks at the Lease again.
const leaseRetry = 500 * time.Millisecond

// Locks keeps each project's deploy lock as a Lease in its namespace: its
// holderIdentity the holder (with a token of the run), renewed every third
// of its leaseDurationSeconds (lock.Options.Expiry) while held. A Lease
// not renewed within its duration belongs to a run that is gone: the next
// Acquire takes it over. Every change goes through the Lease's
// resourceVersion, so two runs never both take it.
func (d *Driver) Locks() lock.Locks { return &leases{client: d.client, ns: d.leaseNamespace} }

// leaseNamespace is where project's Lease lives: WithNamespace's, else the
// project's name.
func (d *Driver) leaseNamespace(project string) string {
	if d.namespace != "" {
		return d.namespace
	}
	return project
}

type leases struct {
	client kubernetes.Interface
	ns     func(project string) string
}

// Acquire takes project's Lease for o.Holder, waiting up to o.Wait for a
// live holder, taking over one whose Lease expired.
func (l *leases) Acquire(ctx context.Context, project string, o lock.Options) (lock.Held, error) {
	expiry := o.Expiry
	if expiry <= 0 {
		expiry = lock.DefaultExpiry
	}
	ns := l.ns(project)
	deadline := time.Now().Add(o.Wait)
	identity := identityOf(o.Holder)
	reported := ""
	for {
		taken, holder, err := l.take(ctx, project, ns, identity, o.Holder, expiry)
		if err != nil {
			return nil, err
		}
		if taken {
			return l.hold(ctx, project, ns, identity, expiry), nil
		}
		if !time.Now().Before(deadline) {
			return nil, &lock.HeldError{Project: project, Holder: holder, Waited: o.Wait}
		}
		if s := holder.String(); s != reported {
			progress.Report(ctx, "lock:"+project, "wait", progress.Working, "held by "+s, nil)
			reported = s
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leaseRetry):
		}
	}
}

// take makes one attempt: it creates the Lease, or takes it when free or
// expired; otherwise it returns the live holder.
func (l *leases) take(ctx context.Context, project, ns, identity string, h lock.Holder, expiry time.Duration) (bool, lock.Holder, error) {
	leases := l.client.CoordinationV1().Leases(ns)
	cur, err := leases.Get(ctx, LeaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if err := l.namespace(ctx, project, ns); err != nil {
			return false, lock.Holder{}, err
		}
		_, err = leases.Create(ctx, lease(project, ns, identity, h, expiry, nil), metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return false, lock.Holder{}, nil
		}
		if err != nil {
			return false, lock.Holder{}, fmt.Errorf("creating the deploy lock of %s: %w", project, err)
		}
		return true, lock.Holder{}, nil
	}
	if err != nil {
		return false, lock.Holder{}, fmt.Errorf("reading the deploy lock of %s: %w", project, err)
	}
	prev, live := liveHolder(cur)
	if live {
		return false, prev, nil
	}
	_, err = leases.Update(ctx, lease(project, ns, identity, h, expiry, cur), metav1.UpdateOptions{FieldManager: FieldManager})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return false, prev, nil
	}
	if err != nil {
		return false, lock.Holder{}, fmt.Errorf("taking the deploy lock of %s: %w", project, err)
	}
	if cur.Spec.HolderIdentity != nil && *cur.Spec.HolderIdentity != "" {
		progress.Report(ctx, "lock:"+project, "take over", progress.Warning,
			"the run holding the lock is gone (its lease was not renewed): "+prev.String(), nil)
	}
	return true, lock.Holder{}, nil
}

// namespace creates ns when it does not exist, so that the Lease can.
func (l *leases) namespace(ctx context.Context, project, ns string) error {
	n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{engine.LabelProject: project, LabelManagedBy: FieldManager}}}
	_, err := l.client.CoreV1().Namespaces().Create(ctx, n, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// lease is the Lease held by identity, made from cur when it exists.
func lease(project, ns, identity string, h lock.Holder, expiry time.Duration, cur *coordinationv1.Lease) *coordinationv1.Lease {
	out := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: ns}}
	if cur != nil {
		out = cur.DeepCopy()
	}
	b, _ := json.Marshal(h)
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels[engine.LabelProject], out.Labels[LabelManagedBy] = project, FieldManager
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[annotationHolder] = string(b)
	now := metav1.NewMicroTime(time.Now())
	secs := int32(max(expiry.Round(time.Second)/time.Second, 1))
	out.Spec = coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
	return out
}

// liveHolder returns the holder of a Lease, and whether it is live: held
// and renewed within its duration.
func liveHolder(l *coordinationv1.Lease) (lock.Holder, bool) {
	var h lock.Holder
	_ = json.Unmarshal([]byte(l.Annotations[annotationHolder]), &h)
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return h, false
	}
	return h, time.Since(s.RenewTime.Time) < time.Duration(*s.LeaseDurationSeconds)*time.Second
}

// identityOf names one run's hold: who, and a token of its own.
func identityOf(h lock.Holder) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s@%s/%d/%s", h.User, h.Host, h.PID, hex.EncodeToString(b))
}

func (l *leases) Free(ctx context.Context, project string) (bool, error) {
	h, err := l.Status(ctx, project)
	return h == nil, err
}

func (l *leases) Status(ctx context.Context, project string) (*lock.Holder, error) {
	cur, err := l.client.CoordinationV1().Leases(l.ns(project)).Get(ctx, LeaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the deploy lock of %s: %w", project, err)
	}
	if h, live := liveHolder(cur); live {
		return &h, nil
	}
	return nil, nil
}

func (l *leases) Break(ctx context.Context, project string) (*lock.Holder, error) {
	h, err := l.Status(ctx, project)
	if err != nil {
		return nil, err
	}
	err = l.client.CoordinationV1().Leases(l.ns(project)).Delete(ctx, LeaseName, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("removing the deploy lock of %s: %w", project, err)
	}
	return h, nil
}

// heldLease is a Lease this run holds, renewed until released or lost.
type heldLease struct {
	l                 *leases
	project, ns, id   string
	expiry            time.Duration
	ctx               context.Context
	cancel            context.CancelCauseFunc
	stop              chan struct{}
	done              chan struct{}
	once, releaseOnce sync.Once
}

func (l *leases) hold(ctx context.Context, project, ns, identity string, expiry time.Duration) *heldLease {
	hctx, cancel := context.WithCancelCause(ctx)
	h := &heldLease{l: l, project: project, ns: ns, id: identity, expiry: expiry, ctx: hctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	go h.heartbeat()
	return h
}

func (h *heldLease) Context() context.Context { return h.ctx }

func (h *heldLease) Lost() error {
	if err := context.Cause(h.ctx); errors.Is(err, lock.ErrLost) {
		return err
	}
	return nil
}

// heartbeat renews the Lease every third of its duration; a Lease gone or
// held by another ends the hold with lock.ErrLost.
func (h *heldLease) heartbeat() {
	defer close(h.done)
	t := time.NewTicker(max(h.expiry/3, 200*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if why := h.renew(); why != "" {
			h.once.Do(func() {
				err := fmt.Errorf("%w: %s", lock.ErrLost, why)
				progress.Report(h.ctx, "lock:"+h.project, "hold", progress.Failed, "", err)
				h.cancel(err)
			})
			return
		}
	}
}

// renew moves the Lease's renewTime on; it says why the lock is lost, or
// "" (a failed request is retried on the next beat).
func (h *heldLease) renew() string {
	ctx, cancel := context.WithTimeout(context.Background(), h.expiry/3+time.Second)
	defer cancel()
	leases := h.l.client.CoordinationV1().Leases(h.ns)
	cur, err := leases.Get(ctx, LeaseName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "the lease was removed (stack lock release --force)"
	case err != nil:
		return ""
	case cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != h.id:
		return "another run took the lease over"
	}
	now := metav1.NewMicroTime(time.Now())
	cur.Spec.RenewTime = &now
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager}); apierrors.IsNotFound(err) {
		return "the lease was removed"
	}
	return ""
}

// Release stops the heartbeat and deletes the Lease if this run still
// holds it.
func (h *heldLease) Release(ctx context.Context) error {
	var err error
	h.releaseOnce.Do(func() {
		close(h.stop)
		<-h.done
		leases := h.l.client.CoordinationV1().Leases(h.ns)
		cur, gerr := leases.Get(ctx, LeaseName, metav1.GetOptions{})
		if gerr != nil || cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != h.id {
			h.cancel(context.Canceled)
			return
		}
		rv := cur.ResourceVersion
		err = leases.Delete(ctx, LeaseName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("releasing the deploy lock of %s: %w", h.project, err)
		}
		h.cancel(context.Canceled)
	})
	return err
}
