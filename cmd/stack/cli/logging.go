package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/sirupsen/logrus"
)

// routeLibraryLogs sends what libraries log through logrus (compose-go warns
// about an obsolete `version:` or several compose files found) to w as
// "stack: warning: ...", since the CLI is the only place that prints.
func routeLibraryLogs(w io.Writer) {
	logrus.SetOutput(w)
	logrus.SetFormatter(libraryFormatter{})
	logrus.SetLevel(logrus.WarnLevel)
}

type libraryFormatter struct{}

func (libraryFormatter) Format(e *logrus.Entry) ([]byte, error) {
	return fmt.Appendf(nil, "stack: %s: %s\n", e.Level, strings.TrimSpace(e.Message)), nil
}
