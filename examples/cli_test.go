package examples_test

import (
	"strings"
	"testing"
)

// TestCLI: a command-line tool in a container, driven through stack run.
//
// Model: one service, cli, built from a Dockerfile with ENTRYPOINT ["/npa"]
// and CMD ["--help"].
//
//	stack run --rm cli -- --help                  -> usage, exit 0
//	stack run --rm cli -- -u K -p S lookup 212    -> "212 NY", exit 0
//	stack run --rm cli -- -u K -p S lookup 999    -> exit 1
//	stack run --rm cli -- listNPAs                -> "missing credentials" on stderr, exit 2
//	stack run --rm -i cli -- -u K -p S check      -> reads stdin, exit 1 for a bad number
func TestCLI(t *testing.T) {
	t.Parallel()
	stack, project := example(t, "cli")

	steps := []struct {
		args       []string
		stdin      string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{args: []string{"run", "--rm", "cli", "--", "--help"}, wantStdout: []string{"Usage: npa -u KEY -p SECRET COMMAND [ARGS]"}},
		{args: []string{"run", "--rm", "cli", "--", "-u", "KEY", "-p", "SECRET", "lookup", "212", "907"}, wantStdout: []string{"212 NY\n907 AK\n"}},
		{args: []string{"run", "--rm", "cli", "--", "-u", "KEY", "-p", "SECRET", "lookup", "999"}, wantCode: 1, wantStderr: []string{`unknown area code "999"`}},
		{args: []string{"run", "--rm", "cli", "--", "listNPAs"}, wantCode: 2, wantStderr: []string{"missing credentials: pass -u KEY -p SECRET"}},
		{args: []string{"run", "--rm", "-i", "cli", "--", "-u", "KEY", "-p", "SECRET", "check"},
			stdin: "+1 (212) 555-0100\n999-555-0100\n", wantCode: 1,
			wantStdout: []string{"+1 (212) 555-0100 valid NY\n", "999-555-0100 invalid: unknown area code 999\n"}},
		{args: []string{"run", "--rm", "-i", "cli", "--", "-u", "KEY", "-p", "SECRET", "check"},
			stdin: "415.555.0199\n", wantStdout: []string{"415.555.0199 valid CA\n"}},
	}
	for _, s := range steps {
		cmd := stack
		cmd.Stdin = s.stdin
		r := cmd.Run(t, s.args...)
		if r.Code != s.wantCode {
			t.Errorf("stack %v: exit %d, want %d", s.args, r.Code, s.wantCode)
		}
		mustContain(t, "stdout", r.Stdout, s.wantStdout...)
		if strings.Contains(r.Stdout, "image:cli") {
			t.Errorf("stack %v: progress lines on stdout, mixed with the program's output:\n%s", s.args, r.Stdout)
		}
		mustContain(t, "stderr", r.Stderr, s.wantStderr...)
	}
	if left := containers(t, project); len(left) != 0 {
		t.Errorf("run --rm left containers: %v", left)
	}
}
