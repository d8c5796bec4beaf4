package dockerclient

import (
	"context"
	"errors"
	"io"

	"github.com/docker/docker/api/types/events"
)

// Follow hands each message of an engine's event stream (msgs, errs: what
// client.Events returns) to each, in order, until ctx ends or the engine
// ends the stream (at the Until asked for): nil then; the stream's error
// otherwise.
func Follow(ctx context.Context, msgs <-chan events.Message, errs <-chan error, each func(events.Message)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		case m := <-msgs:
			each(m)
		}
	}
}
