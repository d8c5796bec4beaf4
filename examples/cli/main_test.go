package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "help", args: "--help", wantCode: 0, wantStdout: "Usage: npa -u KEY -p SECRET COMMAND [ARGS]"},
		{name: "no credentials", args: "listNPAs", wantCode: 2, wantStderr: "missing credentials: pass -u KEY -p SECRET"},
		{name: "no command", args: "-u k -p s", wantCode: 2, wantStderr: "missing command"},
		{name: "unknown command", args: "-u k -p s listAll", wantCode: 2, wantStderr: `unknown command "listAll"`},
		{name: "unknown flag", args: "-x", wantCode: 2, wantStderr: "flag provided but not defined: -x"},
		{name: "list all", args: "-u k -p s listNPAs", wantCode: 0, wantStdout: "201 NJ\n202 DC\n"},
		{name: "list a state", args: "-u k -p s listNPAs ny", wantCode: 0, wantStdout: "212 NY\n315 NY\n"},
		{name: "list unknown state", args: "-u k -p s listNPAs ZZ", wantCode: 1, wantStderr: `no area codes for state "ZZ"`},
		{name: "lookup", args: "-u k -p s lookup 212 907", wantCode: 0, wantStdout: "212 NY\n907 AK\n"},
		{name: "lookup unknown", args: "-u k -p s lookup 212 999", wantCode: 1, wantStdout: "212 NY\n", wantStderr: `unknown area code "999"`},
		{name: "check stdin", args: "-u k -p s check", stdin: "+1 (212) 555-0100\n\n415.555.0199\n",
			wantCode: 0, wantStdout: "+1 (212) 555-0100 valid NY\n415.555.0199 valid CA\n"},
		{name: "check invalid", args: "-u k -p s check", stdin: "212 555 0100\n999-555-0100\n212-155-0100\n12345\n212x5550100\n",
			wantCode: 1, wantStdout: "212 555 0100 valid NY\n" +
				"999-555-0100 invalid: unknown area code 999\n" +
				"212-155-0100 invalid: exchange 155 cannot start with 0 or 1\n" +
				"12345 invalid: 5 digits, want 10\n" +
				"212x5550100 invalid: unexpected 'x'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(strings.Fields(tt.args), strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if n := strings.Count(stdout.String()+stderr.String(), "Usage:"); n > 1 {
				t.Errorf("usage printed %d times", n)
			}
		})
	}
}
