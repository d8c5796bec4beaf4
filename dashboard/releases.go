package dashboard

import (
	"context"
	"time"
)

// releasesEvery is how often the releases are read again: they change at
// a deploy, and reading them asks the registry.
const releasesEvery = 30 * time.Second

// Release is one release of the project's environment, as `stack
// releases` lists it.
type Release struct {
	Tag string `json:"tag"`
	// Images are "service@<short digest>", comma-separated.
	Images string `json:"images"`
	// Status is its last step: verified, failed, deployed, released,
	// promoted, rolled back.
	Status string    `json:"status"`
	When   time.Time `json:"when"`
	By     string    `json:"by,omitempty"`
	// Running: the engine runs its images.
	Running bool `json:"running"`
}

// ReleasesFunc reads the environment's releases, newest first.
type ReleasesFunc func(ctx context.Context) ([]Release, error)

// WithReleases shows the releases read (every releasesEvery) and which
// runs. Default: no releases (a project without an environment has none).
func WithReleases(f ReleasesFunc) Option { return func(s *Server) { s.releases = f } }

func (s *Server) pollReleases(ctx context.Context) {
	t := time.NewTicker(releasesEvery)
	defer t.Stop()
	for {
		rs, err := s.releases(ctx)
		if ctx.Err() != nil {
			return
		}
		s.board.setReleases(rs, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *board) setReleases(rs []Release, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.releasesErr = err.Error()
		return
	}
	b.releases, b.releasesErr = rs, ""
}
