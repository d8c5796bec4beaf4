package registry

import (
	"testing"
)

func TestRunsLock(t *testing.T) {
	web, webOld, cache := "r.example/shop/web@"+digestA, "r.example/shop/web@"+digestB, "r.example/shop/cache@"+digestA
	lock := &Lock{Services: map[string]ServiceImage{"web": {Image: web}, "cache": {Image: cache}}}
	webImage := []string{web, "other.example/web@" + digestA}
	tests := []struct {
		name    string
		running Running
		want    bool
	}{
		{"runs it", Running{"web": {webImage, webImage}, "cache": {{cache}}}, true},
		{"one replica runs an older image", Running{"web": {webImage, {webOld}}, "cache": {{cache}}}, false},
		{"a service not in the lock runs", Running{"web": {webImage}, "extra": {{cache}}}, false},
		{"nothing runs", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.running.RunsLock(lock); got != tt.want {
				t.Errorf("RunsLock = %v, want %v (running %v)", got, tt.want, tt.running)
			}
		})
	}
}

// The engine writes Docker Hub repositories short, a lock in full: the same
// image all the same.
func TestRunsLockDockerHubNames(t *testing.T) {
	lock := &Lock{Services: map[string]ServiceImage{"web": {Image: "index.docker.io/shop/web@" + digestA}}}
	for short, want := range map[string]bool{"shop/web@" + digestA: true, "docker.io/shop/web@" + digestA: true, "shop/web@" + digestB: false, "shop/api@" + digestA: false} {
		if got := (Running{"web": {{short}}}).RunsLock(lock); got != want {
			t.Errorf("running %s: RunsLock = %v, want %v", short, got, want)
		}
	}
}
