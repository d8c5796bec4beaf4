package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: whatever a compose file contains, Load returns a project or an
// error, never panics, and its errors are located *Error values. Seeds are
// the corpus's compose files and broken manifests of every kind Load
// reports; what the fuzzer finds is kept in testdata/fuzz/FuzzLoad.
//
//	go test -run '^$' -fuzz FuzzLoad -fuzztime 3m ./manifest/
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*compose*.y*ml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"services:\n  web:\n    image: nginx\n   ports: [1]\n",
		"services:\n  web:\n    image: x\n    depends_on: [api]\n  api:\n    image: x\n    depends_on: [web]\n",
		"services:\n  web:\n    environment: {A: b}\n",
		"services:\n  web:\n    image: x\n    ports: [\"80:abc\", \"99999:80\"]\n    volumes: [\":/x\"]\n",
		"services:\n  web:\n    image: ${IMG:?set IMG}\n",
		"services:\n  a:\n    image: x\n    container_name: c1\n  b:\n    image: x\n    container_name: c1\n",
		"services:\n  web:\n    image: x\n    depends_on: [dbg]\n  dbg:\n    image: x\n    profiles: [debug]\n",
		"x-stack:\n  injekt: {}\nservices:\n  web:\n    image: x\n",
		"x-stack:\n  inject:\n    mode: all\n    prefix: {web: W}\nservices:\n  web:\n    image: x\n    x-stack: {inject: {mode: none}}\n",
		"services:\n  a: &a\n    image: x\n  b: *a\n",
		"services:\n  web:\n    extends: web\n",
		"include: [missing.yaml]\nservices: {}\n",
		"",
		"[]",
		"services: 1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(t.Context(), Options{ProjectDirectory: dir, ProjectName: "fuzz", Env: []string{"PWD=" + dir}})
		if err == nil {
			if p == nil || p.Project == nil {
				t.Fatal("Load returned neither a project nor an error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error is not a located *manifest.Error: %v", err)
		}
	})
}
