//go:build unix

package registry

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Lock files, the current pointer and the directories that hold them are
// created with the umask's say, as any tool writes files meant to be
// committed: 0600 under umask 077, 0664 under 002. (The umask is the
// process's: this test must not run in parallel with others.)
func TestStoreFollowsTheUmask(t *testing.T) {
	for _, tt := range []struct {
		umask         int
		file, dirMode fs.FileMode
	}{
		{0o077, 0o600, 0o700},
		{0o022, 0o644, 0o755},
		{0o002, 0o664, 0o775},
	} {
		old := syscall.Umask(tt.umask)
		s := Store{Dir: filepath.Join(t.TempDir(), "releases")}
		path, err := s.Save(&Lock{
			Version: LockVersion, Environment: "prod", Tag: "v1", Created: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC),
			Manifest: ManifestHash{Hash: digestA}, Services: map[string]ServiceImage{"web": {Image: "r.example/shop/web@" + digestA}},
		})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]fs.FileMode{
			path: tt.file,
			filepath.Join(filepath.Dir(path), CurrentFile): tt.file,
			filepath.Dir(path): fs.ModeDir | tt.dirMode,
			s.Dir:              fs.ModeDir | tt.dirMode,
		} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("umask %03o: %s is %v, want %v", tt.umask, p, fi.Mode(), want)
			}
		}
	}
}
