// Package manifest loads a stack's desired state: the compose files, through
// compose-go and nothing else, plus the typed x-stack extension.
//
// It is pure with respect to the engine: it reads files and the process
// environment and never talks to Docker. Every user error it returns names the
// file, the line, the service and the field, and says how to fix it (*Error,
// with a sentinel of errors.go inside), and Load reports all the problems of
// the files at once, not the first one compose-go stops at:
//
//   - raw.go reads each file as YAML first: syntax, duplicate keys,
//     interpolation (${X:?message}), port and volume syntax, and an index of
//     the line of every key for the later errors;
//   - check.go checks the typed model compose-go builds (with its own
//     consistency check off, as it stops at the first problem and searches
//     cycles in exponential time): depends_on, cycles, image or build,
//     container_name, profiles; then compose-go's check runs for the rest on a
//     copy without depends_on;
//   - salvage.go runs check.go's checks even when the files have problems of
//     their own, on what can be loaded of them.
//
// The model is the one `docker compose config` prints (render.go), checked on
// the corpus of testdata/corpus against Docker Compose itself.
package manifest
