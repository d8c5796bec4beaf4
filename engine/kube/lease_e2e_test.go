package kube_test

import (
	"errors"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine/kube"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/lock"
)

// TestLeaseLock: the deploy lock as a Lease on the lab.
//
// Steps: the first Acquire creates the namespace and the Lease -> a second
// one that may not wait gets a HeldError naming the holder; Status names
// it -> released, the second takes it -> Break removes it and the holder
// learns it within a heartbeat (Lost, ErrLost) -> a Lease whose holder
// stopped renewing it is taken over at once.
func TestLeaseLock(t *testing.T) {
	lab := e2e.Kube(t)
	c := labClient(t, lab)
	project := lab.KubeProject(t)
	d, err := kube.New(kube.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	locks := d.Locks()
	ctx := t.Context()
	first := lock.Holder{User: "ci", Host: "runner-1", PID: 1, Command: "stack up", Since: time.Now()}
	held, err := locks.Acquire(ctx, project, lock.Options{Holder: first, Expiry: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	second := lock.Holder{User: "dev", Host: "laptop", PID: 2, Command: "stack up", Since: time.Now()}
	_, err = locks.Acquire(ctx, project, lock.Options{Holder: second})
	var he *lock.HeldError
	if !errors.As(err, &he) || he.Holder.Host != "runner-1" {
		t.Fatalf("a second Acquire: %v, want a HeldError naming runner-1", err)
	}
	if h, err := locks.Status(ctx, project); err != nil || h == nil || h.Host != "runner-1" {
		t.Fatalf("Status: %v, %v", h, err)
	}
	time.Sleep(4 * time.Second) // past the expiry: only the heartbeat keeps it
	if free, err := locks.Free(ctx, project); err != nil || free {
		t.Fatalf("a lock past its first expiry is free (%v, %v): the heartbeat does not renew it", free, err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	held2, err := locks.Acquire(ctx, project, lock.Options{Holder: second, Expiry: 3 * time.Second})
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	if h, err := locks.Break(ctx, project); err != nil || h == nil || h.Host != "laptop" {
		t.Fatalf("Break: %v, %v", h, err)
	}
	select {
	case <-held2.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the holder of a broken lock did not learn it")
	}
	if !errors.Is(held2.Lost(), lock.ErrLost) {
		t.Errorf("Lost() = %v, want ErrLost", held2.Lost())
	}
	_ = held2.Release(ctx)

	// a dead holder: its Lease was last renewed a minute ago
	old := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	identity, secs := "ghost@gone/9/abc", int32(15)
	_, err = c.CoordinationV1().Leases(project).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: kube.LeaseName, Namespace: project},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: &secs, RenewTime: &old},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	held3, err := locks.Acquire(ctx, project, lock.Options{Holder: first})
	if err != nil {
		t.Fatalf("taking over a dead holder's lease: %v", err)
	}
	if err := held3.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if free, err := locks.Free(ctx, project); err != nil || !free {
		t.Errorf("after release: free %v, %v", free, err)
	}
}
