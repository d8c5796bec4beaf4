package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// imageIDPart is the name of the hash part that covers the image ID.
const imageIDPart = "image_id"

// Hash is the config hash of one service: Sum over every part, and Parts,
// one short hash per top-level field, to name what changed.
type Hash struct {
	Sum   string
	Parts map[string]string
}

// ConfigHash hashes the service config of p that determines a container's
// contents: the resolved config (including the environment after address
// injection), the image ID, so a rebuilt image or a changed address changes
// it, and what its secrets and configs hold (digests of their values, never
// the values: file sources are read to hash them). Fields that only steer
// the orchestration (scale, depends_on, build, pull_policy, profiles) are
// left out: changing them must not recreate containers. The result is
// stable: JSON objects are hashed with sorted keys.
func ConfigHash(p *types.Project, s types.ServiceConfig, imageID string) (Hash, error) {
	files, err := fileParts(p, s)
	if err != nil {
		return Hash{}, fmt.Errorf("hashing service %q: %w", s.Name, err)
	}
	name := s.Name
	s.Name = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Build = nil
	s.PullPolicy = ""
	s.PullRefreshAfter = ""
	s.Profiles = nil
	s.Develop = nil
	b, err := json.Marshal(s)
	if err != nil {
		return Hash{}, fmt.Errorf("hashing service %q: %w", name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return Hash{}, fmt.Errorf("hashing service %q: %w", name, err)
	}
	for k, v := range files {
		fields[k] = v
	}
	h := Hash{Parts: map[string]string{}}
	for k, v := range fields {
		if string(v) == "null" {
			continue
		}
		h.Parts[k] = shortSum(v)
	}
	if imageID != "" {
		h.Parts[imageIDPart] = shortSum([]byte(imageID))
	}
	sum := sha256.Sum256([]byte(h.PartsLabel()))
	h.Sum = hex.EncodeToString(sum[:])
	return h, nil
}

func shortSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// PartsLabel renders Parts as the value of LabelConfigParts:
// "command=ab12..,environment=cd34..", sorted by field.
func (h Hash) PartsLabel() string {
	keys := make([]string, 0, len(h.Parts))
	for k := range h.Parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + h.Parts[k])
	}
	return b.String()
}

// ParseParts reads a LabelConfigParts value back; a malformed value gives nil.
func ParseParts(label string) map[string]string {
	if label == "" {
		return nil
	}
	parts := map[string]string{}
	for _, kv := range strings.Split(label, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil
		}
		parts[k] = v
	}
	return parts
}

// changedFields names the fields whose hashes differ between an old parts
// label and a new hash, for the plan's reason ("environment, ports changed").
// The image and its ID count as one field, "image".
func changedFields(oldLabel string, h Hash) string {
	old := ParseParts(oldLabel)
	if old == nil {
		return "configuration changed"
	}
	seen := map[string]bool{}
	var names []string
	add := func(k string) {
		if k == imageIDPart {
			k = "image"
		}
		if !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
	}
	for k, v := range h.Parts {
		if old[k] != v {
			add(k)
		}
	}
	for k := range old {
		if _, ok := h.Parts[k]; !ok {
			add(k)
		}
	}
	if len(names) == 0 {
		return "configuration changed"
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + " changed"
}

// fileParts are what the "secrets" and "configs" parts of s hash: each
// reference with its definition and the digest of its value in place of the
// value, so a changed secret recreates the containers that use it, and only
// those.
func fileParts(p *types.Project, s types.ServiceConfig) (map[string]json.RawMessage, error) {
	sources, err := FileSources(p, s)
	if err != nil {
		return nil, err
	}
	type entry struct {
		Ref    types.FileReferenceConfig `json:"ref"`
		Def    types.FileObjectConfig    `json:"def"`
		Digest string                    `json:"digest"`
	}
	byKind := map[string][]entry{}
	for _, f := range sources {
		d, err := f.digest()
		if err != nil {
			return nil, err
		}
		byKind[f.Kind] = append(byKind[f.Kind], entry{Ref: f.Ref, Def: portable(p, f.Def), Digest: d})
	}
	out := map[string]json.RawMessage{}
	for kind, entries := range byKind {
		b, err := json.Marshal(entries)
		if err != nil {
			return nil, err
		}
		out[kind+"s"] = b
	}
	return out, nil
}

// portable is def with its file named relative to the project's directory
// when it is inside it: the same project checked out elsewhere (another CI
// runner, another laptop) hashes the same, and its containers are not
// replaced for having moved.
func portable(p *types.Project, def types.FileObjectConfig) types.FileObjectConfig {
	if def.File == "" || p.WorkingDir == "" {
		return def
	}
	if rel, err := filepath.Rel(p.WorkingDir, def.File); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		def.File = rel
	}
	return def
}

// ResourceHash hashes the compose definition of a network or volume, for
// LabelConfigHash on what the driver creates from it.
func ResourceHash(cfg any) (string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("hashing %T: %w", cfg, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
