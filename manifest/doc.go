// Package manifest loads a stack's desired state: the compose files, through
// compose-go and nothing else, plus the typed x-stack extension.
//
// It is pure with respect to the engine: it reads files and the process
// environment and never talks to Docker. Every user error it returns names the
// file, the service and the field, and says how to fix it.
package manifest
