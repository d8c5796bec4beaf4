package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/stack-deploy/stack/engine"
)

// terminalSizes gives the size of the first of files that is a terminal,
// now and at every SIGWINCH until ctx ends, for attach to pass on to the
// container's terminal; nil when none is a terminal. Only the latest size
// waits to be read: a burst of resizes (a window dragged) ends as one.
func terminalSizes(ctx context.Context, files ...any) <-chan engine.TerminalSize {
	fd := -1
	for _, f := range files {
		if f, ok := f.(*os.File); ok && termIsTerminal(int(f.Fd())) {
			fd = int(f.Fd())
			break
		}
	}
	if fd < 0 {
		return nil
	}
	sizes := make(chan engine.TerminalSize, 1)
	send := func() {
		w, h, err := term.GetSize(fd)
		if err != nil {
			return
		}
		select {
		case <-sizes:
		default:
		}
		sizes <- engine.TerminalSize{Height: uint(h), Width: uint(w)}
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	send()
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-winch:
				send()
			}
		}
	}()
	return sizes
}
