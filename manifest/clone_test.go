package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCloneIsIndependent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte("services:\n  web:\n    image: web:1\n    environment: {A: b}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(t.Context(), Options{Files: []string{file}, ProjectName: "shop", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Clone()
	s := c.Project.Services["web"]
	s.Image = "web@sha256:00"
	v := "injected"
	s.Environment["REDIS_HOST"] = &v
	c.Project.Services["web"] = s
	orig := p.Project.Services["web"]
	if orig.Image != "web:1" || orig.Environment["REDIS_HOST"] != nil {
		t.Errorf("changing the clone changed the original: image %q, environment %v", orig.Image, orig.Environment)
	}
	if c.Name != p.Name || c.ErrorAt("web", "image") == nil {
		t.Errorf("the clone lost the project's name or its file positions")
	}
}
