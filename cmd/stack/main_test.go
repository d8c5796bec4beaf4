package main_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs the tests, unless this binary was called as ssh: it is
// then the ssh command of TestEngineOverSSH (fakeSSH).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "ssh" {
		os.Exit(sshAsForwarder(os.Args[1:]))
	}
	os.Exit(m.Run())
}
