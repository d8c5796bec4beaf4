package image

import (
	"fmt"
	"strings"
	"testing"
)

func TestDockerfileFeatures(t *testing.T) {
	file := "FROM busybox\n" +
		"COPY --chmod=755 a /a\n" + // octal: BuildKit v0.8 parses it
		"RUN <<EOF\nCOPY --link x /x\nEOF\n" + // a heredoc; its body is no instruction
		"COPY --from=build \\\n  --link b /b\n" +
		"ADD --checksum=sha256:00 http://example.com/f /f\n" +
		"COPY --chmod=u+x c /c\n" +
		"RUN echo '<<not a heredoc' --link\n"
	var got []string
	for _, u := range dockerfileFeatures([]byte(file)) {
		got = append(got, fmt.Sprintf("%d %s", u.line, u.feature.what))
	}
	want := []string{"3 a heredoc (<<)", "7 --link", "8 ADD --checksum", "9 --chmod with a symbolic mode"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("features:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildKitAtLeast(t *testing.T) {
	for _, tt := range []struct {
		version string
		since   [2]int
		want    bool
	}{
		{"", [2]int{0, 8}, true}, {"", [2]int{0, 10}, false}, {"v0.11.6", [2]int{0, 12}, false},
		{"v0.12.0", [2]int{0, 12}, true}, {"v0.33.0", [2]int{0, 20}, true}, {"unknown", [2]int{0, 20}, true},
	} {
		if got := buildKitAtLeast(tt.version, tt.since); got != tt.want {
			t.Errorf("buildKitAtLeast(%q, %v) = %v; want %v", tt.version, tt.since, got, tt.want)
		}
	}
}
