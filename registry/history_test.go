package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// at is t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// history builds a history of releases v1..vN made a minute apart, each
// with the events given in a tiny language: "d+@5" deployed at minute 5,
// "d-@5" a failed deploy, "v+@6" verified, "v-@6" a failed verification,
// "r<from tag>@7" a rollback from that release deployed at 7.
func history(t *testing.T, spec map[string][]string, running string) []*registry.Release {
	t.Helper()
	var entries []registry.Entry
	var deploys []registry.Deploy
	var verifications []registry.Verification
	ids := map[string]string{}
	locks := map[string]*registry.Lock{}
	for i := 1; i <= len(spec); i++ {
		tag := fmt.Sprintf("v%d", i)
		l := newLock("prod", tag)
		l.Created = at(i)
		l.Services["web"] = registry.ServiceImage{Image: fmt.Sprintf("r.example/shop/web@sha256:%064d", i)}
		locks[tag] = l
		ids[tag] = registry.LockID(l)
		entries = append(entries, registry.Entry{Path: "/x/" + tag + ".json", Lock: l})
	}
	for tag, events := range spec {
		for _, e := range events {
			var min int
			kind, rest, _ := strings.Cut(e, "@")
			fmt.Sscan(rest, &min)
			switch {
			case kind == "d+" || kind == "d-":
				d := registry.Deploy{Lock: tag + ".json", Release: ids[tag], Time: at(min), ID: e + tag}
				if kind == "d-" {
					d.Error = "boom"
				}
				deploys = append(deploys, d)
			case kind == "v+" || kind == "v-":
				v := registry.Verification{ID: e + tag, Release: ids[tag], Time: at(min), Passed: kind == "v+",
					Checks: []registry.CheckResult{{Name: "http http://x/", Passed: kind == "v+"}}}
				verifications = append(verifications, v)
			case strings.HasPrefix(kind, "r"):
				deploys = append(deploys, registry.Deploy{Lock: tag + ".json", Release: ids[tag], Time: at(min), ID: e + tag, RollbackFrom: ids[kind[1:]]})
			}
		}
	}
	rs := registry.Assemble(entries, nil, deploys, verifications)
	if running != "" {
		registry.MarkRunning(rs, registry.Running{"web": {{locks[running].Services["web"].Image}}})
	}
	return rs
}

func TestRollbackTarget(t *testing.T) {
	tests := []struct {
		name    string
		spec    map[string][]string
		running string
		want    string // tag, or the error's words
	}{
		{name: "the newest verified before the running",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v+@21"}, "v3": {"d+@30", "v-@31"}},
			running: "v3", want: "v2"},
		{name: "a failed release is skipped",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v-@21"}, "v3": {"d+@30"}},
			running: "v3", want: "v1"},
		{name: "a failed deploy is skipped",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d-@20"}, "v3": {"d+@30"}},
			running: "v3", want: "v1"},
		{name: "never verified is skipped",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20"}, "v3": {"d+@30"}},
			running: "v3", want: "v1"},
		{name: "a release verified again after failing qualifies",
			spec:    map[string][]string{"v1": {"d+@10", "v-@11", "v+@12"}, "v2": {"d+@20"}},
			running: "v2", want: "v1"},
		{name: "a failed check sticks through a redeploy",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v-@21", "d+@22"}, "v3": {"d+@30"}},
			running: "v3", want: "v1"},
		{name: "newer releases than the running one are not candidates",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v+@21"}, "v3": {"d+@30", "v+@31", "rv3@40"}},
			running: "v2", want: "v1"},
		{name: "a release rolled back from is not returned to",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v+@21", "rv3@40"}, "v3": {"d+@30", "v+@31", "rv2@50"}},
			running: "v3", want: "v1"},
		{name: "nothing runs: the newest verified",
			spec: map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v-@21"}},
			want: "v1"},
		{name: "none qualifies",
			spec:    map[string][]string{"v1": {}, "v2": {"d+@20", "v-@21"}, "v3": {"d+@30"}},
			running: "v3", want: "no release older than the running v3 was deployed and verified: v2 (failed: check http http://x/ failed), v1 (never deployed)"},
		{name: "the oldest runs",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}},
			running: "v1", want: "no release older than the running v1 to roll back to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.RollbackTarget(history(t, tt.spec, tt.running))
			if strings.HasPrefix(tt.want, "v") && len(tt.want) == 2 {
				if err != nil || got.Lock.Tag != tt.want {
					t.Fatalf("RollbackTarget = %v, %v; want %s", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, registry.ErrNoRollback) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RollbackTarget error %v, want ErrNoRollback saying %q", err, tt.want)
			}
		})
	}
}

func TestReleaseStatus(t *testing.T) {
	want := map[string]string{
		"v1": "running,verified", "v2": "failed,rolled back", "v3": "released", "v4": "deployed", "v5": "failed",
	}
	// v1 verified, v2 failed its check and was rolled back from (to v1)
	rs := history(t, map[string][]string{
		"v1": {"d+@10", "v+@11", "rv2@30"}, "v2": {"d+@20", "v-@21"}, "v3": {}, "v4": {"d+@40"}, "v5": {"d-@50"},
	}, "v1")
	if rs[0].Lock.Tag != "v5" || !rs[0].Current {
		t.Fatalf("newest first, the newest current: got %s current=%v", rs[0].Lock.Tag, rs[0].Current)
	}
	for _, r := range rs {
		if got := r.Status().String(); got != want[r.Lock.Tag] {
			t.Errorf("%s: status %q, want %q", r.Lock.Tag, got, want[r.Lock.Tag])
		}
	}
}

func TestCheckVerified(t *testing.T) {
	rs := history(t, map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v-@21"}, "v3": {"d+@30"}}, "")
	find := func(tag string) *registry.Release {
		r, err := registry.FindRelease(rs, tag)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	checks := []string{"http http://x/"}
	if err := registry.CheckVerified(find("v1"), "staging", checks); err != nil {
		t.Errorf("v1 verified: %v", err)
	}
	if err := registry.CheckVerified(find("v2"), "staging", checks); !errors.Is(err, registry.ErrNotVerified) || !strings.Contains(err.Error(), `check "http http://x/" failed`) {
		t.Errorf("v2 failed: %v", err)
	}
	if err := registry.CheckVerified(find("v3"), "staging", checks); !errors.Is(err, registry.ErrNotVerified) || !strings.Contains(err.Error(), `release v3 is not verified on staging: check "http http://x/" has not run`) {
		t.Errorf("v3 unverified: %v", err)
	}
	if err := registry.CheckVerified(find("v1"), "staging", append(checks, "web: /app selftest")); !errors.Is(err, registry.ErrNotVerified) || !strings.Contains(err.Error(), `check "web: /app selftest" is missing`) {
		t.Errorf("v1 without the new check: %v", err)
	}
	if err := registry.CheckVerified(find("v3"), "staging", nil); err != nil {
		t.Errorf("no checks configured: %v", err)
	}
}

// TestRecordsInRegistry: records written to a registry by concurrent
// writers are all read back, and a history read from the registry alone
// (a fresh checkout) equals the one read where they were written.
func TestRecordsInRegistry(t *testing.T) {
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	remote, err := pr.Records(reg.Host + "/shop")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	here := &registry.History{Store: registry.Store{Dir: t.TempDir()}, Project: "shop", Env: "prod", Remote: remote}
	l := newLock("prod", "v1")
	l.Services["web"] = registry.ServiceImage{Image: reg.Host + "/shop/web@sha256:" + strings.Repeat("a", 64)}
	path, err := here.SaveLock(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var derr error
			if i == 0 {
				derr = errors.New("boom")
			}
			if err := here.RecordDeploy(ctx, path, l, at(i), derr, ""); err != nil {
				t.Error(err)
			}
			if err := here.RecordVerification(ctx, registry.Verification{Release: registry.LockID(l), Time: at(i), Passed: true}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// another project in the same repository is not this one's history
	other := &registry.History{Store: registry.Store{Dir: t.TempDir()}, Project: "other", Env: "prod", Remote: remote}
	ol := newLock("prod", "x")
	ol.Project = "other"
	ol.Services["web"] = l.Services["web"]
	if _, err := other.SaveLock(ctx, ol); err != nil {
		t.Fatal(err)
	}

	fresh := &registry.History{Store: registry.Store{Dir: t.TempDir()}, Project: "shop", Env: "prod", Remote: remote}
	reg.Reset()
	start := time.Now()
	if _, err := fresh.Releases(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("reading 18 records from the registry: %s, %d requests", time.Since(start).Round(time.Millisecond), reg.Stats().Requests)
	for name, h := range map[string]*registry.History{"here": here, "fresh": fresh} {
		rs, err := h.Releases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || len(rs[0].Deploys) != 8 || len(rs[0].Verifications) != 8 || rs[0].ID != registry.LockID(l) {
			t.Fatalf("%s: %d releases, want 1 with 8 deploys and 8 verifications: %+v", name, len(rs), rs)
		}
		if name == "fresh" {
			if rs[0].Path != "" {
				t.Errorf("fresh: the release has a lock file %s before one is written", rs[0].Path)
			}
			p, err := h.LockFile(rs[0])
			if err != nil {
				t.Fatal(err)
			}
			got, err := registry.ReadLock(p)
			if err != nil || registry.LockID(got) != registry.LockID(l) {
				t.Errorf("lock file written from the registry: %v, id %s, want %s", err, registry.LockID(got), registry.LockID(l))
			}
		}
	}
	// storing the same lock again writes the same record
	if _, err := here.SaveLock(ctx, l); err != nil {
		t.Fatal(err)
	}
	if rs, _ := fresh.Releases(ctx); len(rs) != 1 {
		t.Errorf("the same lock stored twice makes %d releases", len(rs))
	}
}
