package watch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

func load(t *testing.T, files map[string]string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := manifest.Load(context.Background(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "w"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRuleMatches: a change concerns a rule when it is under its path, not
// ignored (ignore, the build context's .dockerignore, editors' files, .git)
// and, with include, included; its container path is target joined with
// the path under the rule's.
func TestRuleMatches(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml": `services:
  web:
    build: .
    develop:
      watch:
        - {path: ./src, target: /app/src, action: sync, ignore: [node_modules/, "*.log"], include: ["*.js", "**/*.css"]}
        - {path: ./go.mod, action: rebuild}
`,
		"Dockerfile":    "FROM busybox:stable\n",
		".dockerignore": "src/secret.js\n",
	})
	rules, err := Rules(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Action != types.WatchActionSync || !rules[0].Syncs() || rules[1].Syncs() {
		t.Fatalf("rules: %+v", rules)
	}
	src := rules[0]
	dir := p.Project.WorkingDir
	for _, tt := range []struct {
		file string
		want bool
	}{
		{"src/app.js", true},
		{"src/deep/er/style.css", true},
		{"src/readme.md", false},           // not included
		{"src/node_modules/x/y.js", false}, // ignored directory
		{"src/debug.log", false},           // ignored
		{"src/secret.js", false},           // .dockerignore
		{"src/.app.js.swp", false},         // editor's
		{"src/app.js~", false},             // editor's
		{"src/.git/HEAD", false},
		{"other/app.js", false}, // outside the path
		{"srcx/app.js", false},
	} {
		if got := src.Matches(filepath.Join(dir, tt.file)); got != tt.want {
			t.Errorf("Matches(%s) = %v, want %v", tt.file, got, tt.want)
		}
	}
	if got := src.ContainerPath(filepath.Join(dir, "src/deep/a.js")); got != "/app/src/deep/a.js" {
		t.Errorf("ContainerPath: %s", got)
	}
	if !rules[1].Matches(filepath.Join(dir, "go.mod")) || rules[1].Matches(filepath.Join(dir, "go.sum")) {
		t.Error("a rule on a file matches that file alone")
	}
}

// TestRulesRefuse: a rule that cannot work is refused, naming the service
// and the rule.
func TestRulesRefuse(t *testing.T) {
	// (compose-go refuses a sync without target itself, naming the line.)
	for _, tt := range []struct{ watch, want string }{
		{"{path: ., action: rebuild}", `service "web": develop.watch[0]: action rebuild needs a build section`},
		{"{path: ., target: /a, action: sync+exec}", `service "web": develop.watch[0]: action sync+exec needs exec.command`},
	} {
		p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: busybox:stable\n    develop:\n      watch:\n        - " + tt.watch + "\n"})
		_, err := Rules(p, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.watch, err, tt.want)
		}
	}
	p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: busybox:stable\n"})
	if _, err := Rules(p, nil); err == nil {
		t.Error("no develop.watch: want ErrNoRules")
	}
}
