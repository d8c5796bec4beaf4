package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Loading a manifest through compose-go allocates about 1 GB for 1,000
// services, while what is live at any moment stays small (under 40 MB for
// those 1,000) and grows with the manifest. Go's default collector lets the
// process grow to twice what is live plus what it has not returned to the
// system yet (100 MB there). A fixed soft limit keeps it small, but once a
// larger manifest's live heap passes the limit the collector runs without
// end, and loading turned quadratic (2 MB of manifest: 31 s instead of 9).
// So the collector runs when the heap reaches a soft limit of heapFloor, or
// of twice the most that has been live after a collection if that is more:
// few collections for an ordinary manifest, 70 MB at most for 1,000
// services, and time and memory linear in the manifest's size. The limit
// only grows: lowered below memory the process still holds, it would make
// the collector run back to back. GOGC or GOMEMLIMIT set in the
// environment leave Go's own policy in place.
const heapFloor = 64 << 20

func tuneMemory() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetGCPercent(-1)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	limit := int64(heapFloor)
	var retune func(struct{})
	retune = func(struct{}) {
		metrics.Read(sample)
		limit = max(limit, 2*int64(sample[0].Value.Uint64()))
		debug.SetMemoryLimit(limit)
		// Called again after the next collection, which frees this (large
		// enough not to share a block with other small objects).
		runtime.AddCleanup(new([64]byte), retune, struct{}{})
	}
	retune(struct{}{})
}
