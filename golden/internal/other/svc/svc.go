// Package svc has the same name as ../../svc, to exercise import naming.
package svc

import "context"

// Service does nothing until it is stopped.
type Service struct{}

// Serve waits for ctx.
func (*Service) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// New starts a Service.
func New(ctx context.Context) (*Service, error) { return &Service{}, nil }
