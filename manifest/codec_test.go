package manifest

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestModelCodec: every model of the corpus, and large ones, come back from
// the cache's encoding as the same value (nil and empty, pointers to zero
// values, number types, extensions), rendering the same bytes.
func TestModelCodec(t *testing.T) {
	bench := t.TempDir()
	writeManifest(t, bench, 200, true)
	for _, dir := range modelDirs(t, tricky(t, 80), bench) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p := loadDir(t, dir)
			b, err := encodeValue(nil, p.Project)
			if err != nil {
				t.Fatal(err)
			}
			var back types.Project
			rest, err := decodeValue(b, &back)
			if err != nil || len(rest) != 0 {
				t.Fatalf("decoding: %v, %d bytes left", err, len(rest))
			}
			if !reflect.DeepEqual(&back, p.Project) {
				t.Fatal("decoded model differs from the encoded one")
			}
			want, _ := p.Render("yaml")
			got, _ := (&Project{Project: &back}).Render("yaml")
			if !bytes.Equal(got, want) {
				t.Fatal("decoded model renders differently")
			}
		})
	}
}

// TestModelCodecValues: the values the encoding must keep apart, and what
// it refuses to store.
func TestModelCodecValues(t *testing.T) {
	f := false
	type inner struct{ N *int }
	type sample struct {
		NilSlice, EmptySlice []string
		NilMap, EmptyMap     map[string]int
		False                *bool
		NilPtr               *inner
		Any                  map[string]any
		F32                  float32
		Arr                  [2]uint16
	}
	in := sample{
		EmptySlice: []string{}, EmptyMap: map[string]int{}, False: &f, NilPtr: nil,
		Any: map[string]any{"i": 1, "i64": int64(-2), "u": uint64(math.MaxUint64), "f": 1.5, "f32": float32(0.1),
			"s": "x", "b": true, "nil": nil, "list": []any{"a", 2, map[string]any{}}},
		F32: 3.25, Arr: [2]uint16{7, 65535},
	}
	b, err := encodeValue(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if _, err := decodeValue(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", out, in)
	}
	for _, bad := range []any{
		&struct{ C chan int }{make(chan int)},
		&struct{ X any }{X: struct{}{}},
		&struct{ hidden int }{hidden: 1},
	} {
		if _, err := appendValue(nil, reflect.ValueOf(bad).Elem()); err == nil {
			t.Errorf("encoding %#v: no error; want it refused", bad)
		}
	}
	for cut := range b {
		var out sample
		if _, err := decodeValue(b[:cut], &out); err == nil {
			t.Errorf("decoding %d of %d bytes: no error", cut, len(b))
		}
	}
}
