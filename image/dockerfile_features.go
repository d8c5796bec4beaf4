package image

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// dockerfileFeature is a construct of the Dockerfile syntax that the
// frontend built into BuildKit parses from some version on. Older builders
// fail on it half-way through a build, or (heredocs) build something else
// than the file says; a file with a # syntax= directive is parsed by the
// frontend it names instead, which is not checked here.
type dockerfileFeature struct {
	what string
	// since is the first BuildKit (major, minor) whose built-in frontend
	// parses it, and syntax the Dockerfile syntax version it came with.
	since  [2]int
	syntax string
	docker string // the first Docker release with it built in
}

var (
	featureHeredoc     = dockerfileFeature{"a heredoc (<<)", [2]int{0, 10}, "1.4", "23.0"}
	featureLink        = dockerfileFeature{"--link", [2]int{0, 10}, "1.4", "23.0"}
	featureChecksum    = dockerfileFeature{"ADD --checksum", [2]int{0, 12}, "1.6", "24.0"}
	featureSymbolicMod = dockerfileFeature{"--chmod with a symbolic mode", [2]int{0, 20}, "1.14", "28.0"}

	heredocStart = regexp.MustCompile(`<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?)`)
	octalMode    = regexp.MustCompile(`^[0-7]{3,4}$`)
)

// featureUse is where a Dockerfile uses a feature: its 1-based line.
type featureUse struct {
	feature dockerfileFeature
	line    int
	text    string
}

// dockerfileFeatures returns the first use of each feature of the
// Dockerfile syntax newer than BuildKit v0.8's (Docker 20.10's) built-in
// frontend, in the order of the file. Heredoc bodies are not read as
// instructions.
func dockerfileFeatures(dockerfile []byte) []featureUse {
	var (
		uses    []featureUse
		seen    = map[string]bool{}
		endWord string // inside a heredoc body: the word that ends it
		cont    bool   // the previous line ended in a backslash
		cmd     string // the instruction a continued line belongs to
	)
	add := func(f dockerfileFeature, line int, text string) {
		if !seen[f.what] {
			seen[f.what] = true
			uses = append(uses, featureUse{feature: f, line: line, text: text})
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if endWord != "" {
			if strings.TrimLeft(raw, "\t") == endWord || line == endWord {
				endWord = ""
			}
			continue
		}
		if !cont && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		fields := strings.Fields(line)
		if !cont && len(fields) > 0 {
			cmd = strings.ToUpper(fields[0])
			fields = fields[1:]
		}
		cont = strings.HasSuffix(line, `\`)
		if cmd != "RUN" && cmd != "COPY" && cmd != "ADD" {
			continue
		}
		for _, f := range fields {
			if !strings.HasPrefix(f, "--") {
				break // flags come first
			}
			name, value, _ := strings.Cut(f, "=")
			switch {
			case name == "--link" && cmd != "RUN":
				add(featureLink, n, line)
			case name == "--checksum" && cmd == "ADD":
				add(featureChecksum, n, line)
			case name == "--chmod" && cmd != "RUN" && value != "" && !octalMode.MatchString(value):
				add(featureSymbolicMod, n, line)
			}
		}
		if m := heredocStart.FindStringSubmatch(line); m != nil && m[2] == m[4] {
			add(featureHeredoc, n, line)
			endWord = m[3]
		}
	}
	return uses
}

// buildKitAtLeast says whether a BuildKit version ("v0.33.0"; "" for one
// older than v0.11, which cannot say; "unknown") is since or newer.
func buildKitAtLeast(version string, since [2]int) bool {
	if version == "" {
		return since[0] == 0 && since[1] <= 8
	}
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return true // not a release version (a development build): trust it
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return major > since[0] || (major == since[0] && minor >= since[1])
}

// checkDockerfileSyntax refuses a Dockerfile that uses syntax the engine's
// built-in frontend does not parse, naming the file, the line and the
// engine, before anything is built. builder describes the engine's builder
// ("BuildKit v0.8 of the engine (API 1.41, Docker 20.10)"); version is its
// BuildKit version as buildKitAtLeast reads it.
func checkDockerfileSyntax(j *buildJob, version, builder string) error {
	if j.syntax != nil {
		return nil // the frontend the directive names parses the file
	}
	for _, u := range dockerfileFeatures(j.inputs.context.dockerfileContent) {
		if buildKitAtLeast(version, u.feature.since) {
			continue
		}
		return j.errAt("build.dockerfile", fmt.Sprintf("%s:%d: %s uses %s, which %s does not parse (Dockerfile syntax %s, BuildKit v%d.%d and later: Docker %s or later)",
			j.inputs.context.dockerfileName(), u.line, truncate(u.text, 60), u.feature.what, builder, u.feature.syntax, u.feature.since[0], u.feature.since[1], u.feature.docker),
			"build on a newer engine, or write the Dockerfile without it")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q", s[:n]+"…")
}

// engineRelease names the Docker release of an Engine API version, for
// messages: "API 1.41, Docker 20.10".
func engineRelease(api string) string {
	releases := map[string]string{"1.40": "19.03", "1.41": "20.10", "1.42": "23.0", "1.43": "24.0", "1.44": "25.0", "1.45": "26.0", "1.46": "27.0", "1.47": "27.3", "1.48": "28.0", "1.49": "28.1"}
	switch r, ok := releases[api]; {
	case api == "":
		return "the engine"
	case ok:
		return "the engine (API " + api + ", Docker " + r + ")"
	default:
		return "the engine (API " + api + ")"
	}
}
