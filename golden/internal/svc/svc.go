// Package svc holds start functions that golden specs name by import path.
package svc

import (
	"context"
	"time"
)

// Service does nothing until it is stopped.
type Service struct{}

// Serve waits for ctx.
func (*Service) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// New starts a Service.
func New(ctx context.Context) (*Service, error) { return &Service{}, nil }

// NewNamed starts a Service with a name and a timeout.
func NewNamed(ctx context.Context, name string, timeout time.Duration) (*Service, error) {
	return &Service{}, nil
}

// Options configure a service.
type Options struct{ Verbose bool }

// NewWith starts a Service with a timeout and options.
func NewWith(ctx context.Context, timeout time.Duration, opts *Options) (*Service, error) {
	return &Service{}, nil
}
