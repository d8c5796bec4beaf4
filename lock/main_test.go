package lock

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// HoldEnv makes the test binary a holder in another process, for the
// end-to-end tests: it takes the lock of the project named, prints "held"
// once attached to its lock container (from then on its death is seen at
// once), and waits until it loses the lock.
const HoldEnv = "STACK_LOCK_TEST_HOLD"

// TestExpiry is the expiry of that holder, unless ExpiryEnv gives another:
// short, so that a silent one is taken over quickly, and one that has held
// the lock for a heartbeat has started its lock container.
const TestExpiry = 2 * time.Second

// ExpiryEnv sets the holder's expiry (a duration).
const ExpiryEnv = "STACK_LOCK_TEST_EXPIRY"

func TestMain(m *testing.M) {
	if project := os.Getenv(HoldEnv); project != "" {
		os.Exit(holdUntilLost(project))
	}
	os.Exit(m.Run())
}

func holdUntilLost(project string) int {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		fmt.Println(err)
		return 1
	}
	expiry := TestExpiry
	if d, err := time.ParseDuration(os.Getenv(ExpiryEnv)); err == nil {
		expiry = d
	}
	l, err := Acquire(context.Background(), c, project, Options{Holder: Me("lock test holder"), Expiry: expiry})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	select {
	case <-l.attached:
		fmt.Println("held")
	case <-l.Context().Done():
	}
	<-l.Context().Done()
	fmt.Println("lost:", l.Lost())
	return 3
}
