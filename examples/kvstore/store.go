package main

import (
	"context"
	"errors"
)

// Store is what the handlers need from Redis; tests use a map.
type Store interface {
	Set(ctx context.Context, key, value string) error
	// Get returns ok=false when key does not exist.
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	Ping(ctx context.Context) error
}

// redisStore keeps every key under the "kv:" prefix.
type redisStore struct{ c *Redis }

func (s redisStore) Set(ctx context.Context, key, value string) error {
	_, err := s.c.Do(ctx, "SET", "kv:"+key, value)
	return err
}

func (s redisStore) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := s.c.Do(ctx, "GET", "kv:"+key)
	if errors.Is(err, errNil) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (s redisStore) Ping(ctx context.Context) error {
	_, err := s.c.Do(ctx, "PING")
	return err
}
