package cli

import (
	"os"
	"testing"
)

// TestMain keeps the tests, which run stack in process with the test's own
// environment, out of the user's model cache (see modelCacheDir).
func TestMain(m *testing.M) {
	if err := os.Setenv("STACK_CACHE", "off"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestModelCacheDir: the model cache is the user's, unless STACK_CACHE=off;
// in CI it is off unless STACK_CACHE=on.
func TestModelCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	for _, tt := range []struct {
		ci, setting, want string
	}{
		{"", "", "/cache/stack/models"},
		{"", "off", ""},
		{"true", "", ""},
		{"true", "on", "/cache/stack/models"},
		{"true", "off", ""},
	} {
		t.Setenv("CI", tt.ci)
		t.Setenv("STACK_CACHE", tt.setting)
		if got := modelCacheDir(); got != tt.want {
			t.Errorf("CI=%q STACK_CACHE=%q: %q, want %q", tt.ci, tt.setting, got, tt.want)
		}
	}
}
