package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileSize bounds every file loading reads: compose files, the files they
// include or extend, env files, label files. The largest real manifests are a
// few megabytes; the bound is there so that a name that points at a device,
// or at a huge or sparse file, is refused instead of read into memory.
const MaxFileSize = 32 << 20

// readRegular reads file when it is a regular file of at most MaxFileSize
// bytes. It never blocks on a FIFO or reads a device: the file is opened
// without blocking and checked on the open descriptor, so what is read is
// what was checked.
func readRegular(file string) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(fi); err != nil {
		return nil, err
	}
	// The size may change under us: read one byte more than allowed to see.
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: it grew past %s while being read", ErrFileTooLarge, sizeString(MaxFileSize))
	}
	return b, nil
}

// CheckRegularFile reports whether name is a regular file of at most
// MaxFileSize, the only kind stack reads: anything else (a FIFO, a device,
// a directory) could block or never end. The error wraps
// ErrNotRegularFile or ErrFileTooLarge.
func CheckRegularFile(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	if err := checkRegular(fi); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func checkRegular(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: it is %s", ErrNotRegularFile, fileKind(fi.Mode()))
	}
	if fi.Size() > MaxFileSize {
		return fmt.Errorf("%w: it is %s", ErrFileTooLarge, sizeString(fi.Size()))
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	default:
		return fmt.Sprintf("of mode %v", m)
	}
}

func sizeString(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// fileError is the user error for a file that cannot be read, located where
// the manifest names it; at.file empty: named on the command line (or found
// by discovery), and the error is about the file itself.
func fileError(at pos, service, field, file string, err error) *Error {
	fix := "name a regular file of at most " + sizeString(MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		fix = "create it, or correct the path"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in the message already
	}
	e := &Error{
		File: at.file, Line: at.line, Service: service, Field: field,
		Problem: fmt.Sprintf("reading %s: %v", displayPath(file), err),
		Fix:     fix,
		Err:     fmt.Errorf("%w: %w", ErrUnreadableFile, err),
	}
	if at.file == "" {
		e.File, e.Problem = file, err.Error()
	}
	return e
}
