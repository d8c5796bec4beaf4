// Package manifest loads a stack's desired state: the compose files, through
// compose-go and nothing else, plus the typed x-stack extension.
//
// It is pure with respect to the engine: it reads files and the process
// environment and never talks to Docker. Every user error it returns names the
// file, the line, the service and the field, and says how to fix it (*Error,
// with a sentinel of errors.go inside), and Load reports all the problems of
// the files at once, not the first one compose-go stops at:
//
//   - files.go reads every file a load needs only when it is a regular file
//     of at most MaxFileSize (never a FIFO, a device, a directory);
//   - raw.go reads each compose file as YAML first: syntax, duplicate keys,
//     interpolation (${X:?message}), port and volume syntax, and an index of
//     the line of every key for the later errors; budget.go measures each
//     document against the nesting and alias limits before anything decodes
//     it (a "billion laughs" is refused in microseconds), and refs.go does
//     the same for the files it names (include:, extends.file, env files);
//   - compose.go calls compose-go's loader on those files, step by step:
//     its consistency check runs on the model without depends_on (its cycle
//     search is exponential), and interpolation gets only the type casts
//     the files can use (casts.go);
//   - check.go (and self.go) check the typed model: depends_on, cycles in
//     linear time, image or build, container_name, services naming
//     themselves, the env and label files before compose-go reads them;
//   - salvage.go runs check.go's checks even when the files have problems of
//     their own, on what can be loaded of them;
//   - cache.go keeps the loaded model between runs, keyed by every input of
//     the load (codec.go stores it).
//
// Load returns as soon as its context is done, whatever compose-go is doing.
// The model is the one `docker compose config` prints (render.go, yamlout.go),
// checked on the corpus of testdata/corpus against Docker Compose itself.
package manifest
