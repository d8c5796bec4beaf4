package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/registry"
)

// TestWriteHistory pins what `stack releases` prints, as a table and as
// JSON, for a history with every status: testdata/releases/*.golden;
// -update rewrites them.
func TestWriteHistory(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 1, 10, m, 0, 0, time.UTC) }
	lock := func(tag string, m int, digit string) *registry.Lock {
		return &registry.Lock{
			Version: registry.LockVersion, Project: "shop-prod", Environment: "prod", Tag: tag, Created: at(m), CreatedBy: "ci@runner-1",
			Manifest: registry.ManifestHash{Hash: "sha256:feed"},
			Services: map[string]registry.ServiceImage{
				"web":   {Image: "r.example/shop/web@sha256:" + strings.Repeat(digit, 64)},
				"cache": {Image: "r.example/shop/cache@sha256:" + strings.Repeat("c", 64)},
			},
			PromotedFrom: &registry.Origin{Environment: "staging", Created: at(m - 1)},
		}
	}
	v1, v2, v3, v4 := lock("v1", 1, "1"), lock("v2", 2, "2"), lock("v3", 3, "3"), lock("v4", 4, "4")
	v3.PromotedFrom.Forced, v3.PromotedFrom.Unverified = true, `release v3 is not verified on staging: check "http http://x/" failed`
	id := registry.LockID
	entries := []registry.Entry{{Path: "/repo/.stack/releases/prod/v1.json", Lock: v1}, {Path: "/repo/.stack/releases/prod/v2.json", Lock: v2}}
	recs := []registry.Record{{Kind: registry.RecordLock, Lock: v3}, {Kind: registry.RecordLock, Lock: v4}}
	deploys := []registry.Deploy{
		{Release: id(v1), Time: at(10), By: "ci@runner-1", ID: "d1"},
		{Release: id(v2), Time: at(20), By: "ci@runner-2", ID: "d2"},
		{Release: id(v3), Time: at(30), By: "ci@runner-1", ID: "d3"},
		{Release: id(v1), Time: at(40), By: "ann@laptop", ID: "d4", RollbackFrom: id(v3)},
	}
	verifications := []registry.Verification{
		{ID: "x1", Release: id(v1), Time: at(11), By: "ci@runner-1", Passed: true, Checks: []registry.CheckResult{{Name: "http http://x/", Passed: true}}},
		{ID: "x3", Release: id(v3), Time: at(31), By: "ci@runner-1", Checks: []registry.CheckResult{{Name: "http http://x/", Output: "answered 500, want 200: oops"}}},
	}
	releases := registry.Assemble(entries, recs, deploys, verifications)
	releases[3].Running = true // v1, as MarkRunning would say
	for _, format := range []string{"table", "json"} {
		var out bytes.Buffer
		if err := writeHistory(&Globals{Stdout: &out}, releases, format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "releases", format+".golden")
		if *update {
			if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -run TestWriteHistory -update ./cmd/stack/cli/ creates it)", err)
		}
		if out.String() != string(want) {
			t.Errorf("releases --format %s:\n%s\nwant (%s):\n%s", format, out.String(), golden, want)
		}
	}
}
