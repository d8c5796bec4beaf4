package manifest

// Clone returns a copy of p that shares nothing a deploy changes: the
// compose model is copied deeply (compose-go's own copy), so injecting
// addresses into it or pinning its images leaves p as loaded. A deploy
// plans from a fresh clone each time it plans again.
func (p *Project) Clone() *Project {
	c := *p
	c.Project = p.Project.WithServicesDisabled()
	return &c
}
