package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// Bucket is a server that holds a map of string keys to string values.
type Bucket struct {
	name string
	srv  *runtime.Server[map[string]string]
}

// NewBucket is the start function of the template of supervisor "buckets";
// the generated BucketsSupervisor.StartChild passes name.
func NewBucket(ctx context.Context, name string) (*Bucket, error) {
	srv, err := runtime.NewServer(ctx, runtime.ServerSpec[map[string]string]{
		Init: func(context.Context) (map[string]string, error) { return map[string]string{}, nil },
	})
	if err != nil {
		return nil, err
	}
	return &Bucket{name: name, srv: srv}, nil
}

// Serve runs the bucket's server loop.
func (b *Bucket) Serve(ctx context.Context) error { return b.srv.Serve(ctx) }

// Handle returns the bucket's process.
func (b *Bucket) Handle() runtime.Handle { return b.srv.Handle() }

// Put sets key to value.
func (b *Bucket) Put(ctx context.Context, key, value string) error {
	_, err := runtime.Call(ctx, b.srv, func(m *map[string]string) (struct{}, error) {
		(*m)[key] = value
		return struct{}{}, nil
	})
	return err
}

// Get returns the value of key and whether the bucket has it.
func (b *Bucket) Get(ctx context.Context, key string) (string, bool, error) {
	type result struct {
		value string
		ok    bool
	}
	r, err := runtime.Call(ctx, b.srv, func(m *map[string]string) (result, error) {
		v, ok := (*m)[key]
		return result{v, ok}, nil
	})
	return r.value, r.ok, err
}

// Crash makes the bucket crash with reason, as a bug in it would.
func (b *Bucket) Crash(reason error) {
	b.srv.Cast(func(*map[string]string) error { return reason })
}

// Store is the front door: it finds a bucket by name, or starts it.
type Store struct {
	buckets *runtime.Ref[*BucketsSupervisor]
	names   *runtime.Registry[string]
}

// NewStore is the start function of child "store". buckets follows the
// dynamic supervisor across its restarts ({ref: buckets}); names is the
// registry of the spec ({registry: buckets}).
func NewStore(ctx context.Context, buckets *runtime.Ref[*BucketsSupervisor], names *runtime.Registry[string]) (*Store, error) {
	return &Store{buckets: buckets, names: names}, nil
}

// Serve has nothing to do but wait: the store's work runs in its callers.
func (s *Store) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Bucket returns the bucket called name, starting it under the dynamic
// supervisor if no live bucket has that name. Concurrent callers asking for
// the same name get the same bucket. started says whether this call started
// it.
func (s *Store) Bucket(ctx context.Context, name string) (b *Bucket, started bool, err error) {
	h, err := s.names.LookupOrStart(ctx, name, func(ctx context.Context) (runtime.Handle, error) {
		sup, ok := s.buckets.Get()
		if !ok {
			return runtime.Handle{}, errors.New("the buckets supervisor is not running")
		}
		started = true
		return sup.StartChild(ctx, name)
	})
	if err != nil {
		return nil, false, err
	}
	b, ok := runtime.ServiceOf[*Bucket](h)
	if !ok {
		return nil, false, fmt.Errorf("%v is not a bucket", h)
	}
	return b, started, nil
}

// Running counts the running buckets.
func (s *Store) Running(ctx context.Context) (int, error) {
	sup, ok := s.buckets.Get()
	if !ok {
		return 0, nil
	}
	counts, err := sup.CountChildren(ctx)
	return counts.Active, err
}
