package lock

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"
)

// Labels of the lock container (and of its image, by project). Labels are
// immutable: what they say of the holder cannot change while it holds.
const (
	labelProject = "io.stack.lock"
	labelHost    = "io.stack.lock.host"
	labelUser    = "io.stack.lock.user"
	labelPID     = "io.stack.lock.pid"
	labelCommand = "io.stack.lock.command"
	labelSince   = "io.stack.lock.since"
)

// Holder is who holds a lock, as the waiting runs are told.
type Holder struct {
	Host    string    `json:"host"`
	User    string    `json:"user"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// Me is this process running command (e.g. "stack up --env prod"), from now.
func Me(command string) Holder {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return Holder{Host: host, User: name, PID: os.Getpid(), Command: command, Since: time.Now()}
}

// String is "ci@runner-3 (pid 4242): stack up --env prod, since
// 2026-11-22 12:00:01 UTC".
func (h Holder) String() string {
	return fmt.Sprintf("%s@%s (pid %d): %s, since %s", h.User, h.Host, h.PID, h.Command, h.Since.UTC().Format("2006-01-02 15:04:05 MST"))
}

func (h Holder) labels(project string) map[string]string {
	return map[string]string{
		labelProject: project,
		labelHost:    h.Host,
		labelUser:    h.User,
		labelPID:     strconv.Itoa(h.PID),
		labelCommand: h.Command,
		labelSince:   h.Since.UTC().Format(time.RFC3339Nano),
	}
}

// holderOf reads a holder back from its lock container's labels.
func holderOf(labels map[string]string) Holder {
	pid, _ := strconv.Atoi(labels[labelPID])
	since, _ := time.Parse(time.RFC3339Nano, labels[labelSince])
	return Holder{Host: labels[labelHost], User: labels[labelUser], PID: pid, Command: labels[labelCommand], Since: since}
}
