package runtime

import (
	"context"
	"sync/atomic"
)

// Starter is a start function that returns its service with its own type, S.
// Bind0 to Bind8 make one from a constructor and its arguments; Start adapts
// it to a StartFunc, and NewRef tracks what it starts.
type Starter[S Service] func(ctx context.Context) (S, error)

// Start calls s and returns its service as a Service. A failed start returns
// a nil Service, never a typed nil.
func (s Starter[S]) Start(ctx context.Context) (Service, error) {
	svc, err := s(ctx)
	if err != nil {
		return nil, err
	}
	return svc, nil
}

// Bind0 makes a Starter of the constructor f, which takes only the context.
// Its point is the type: the compiler checks f's shape and infers S.
func Bind0[S Service](f func(context.Context) (S, error)) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx) }
}

// Bind1 binds the constructor f to 1 argument: the Starter it returns calls
// f(ctx, a1) on every start and restart.
func Bind1[S Service, A1 any](f func(context.Context, A1) (S, error), a1 A1) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1) }
}

// Bind2 binds the constructor f to 2 arguments: the Starter it returns calls
// f(ctx, a1, a2) on every start and restart.
func Bind2[S Service, A1, A2 any](f func(context.Context, A1, A2) (S, error), a1 A1, a2 A2) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2) }
}

// Bind3 binds the constructor f to 3 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3) on every start and restart.
func Bind3[S Service, A1, A2, A3 any](f func(context.Context, A1, A2, A3) (S, error), a1 A1, a2 A2, a3 A3) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3) }
}

// Bind4 binds the constructor f to 4 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3, a4) on every start and restart.
func Bind4[S Service, A1, A2, A3, A4 any](f func(context.Context, A1, A2, A3, A4) (S, error), a1 A1, a2 A2, a3 A3, a4 A4) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3, a4) }
}

// Bind5 binds the constructor f to 5 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3, a4, a5) on every start and restart.
func Bind5[S Service, A1, A2, A3, A4, A5 any](f func(context.Context, A1, A2, A3, A4, A5) (S, error), a1 A1, a2 A2, a3 A3, a4 A4, a5 A5) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3, a4, a5) }
}

// Bind6 binds the constructor f to 6 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3, a4, a5, a6) on every start and restart.
func Bind6[S Service, A1, A2, A3, A4, A5, A6 any](f func(context.Context, A1, A2, A3, A4, A5, A6) (S, error), a1 A1, a2 A2, a3 A3, a4 A4, a5 A5, a6 A6) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3, a4, a5, a6) }
}

// Bind7 binds the constructor f to 7 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3, a4, a5, a6, a7) on every start and restart.
func Bind7[S Service, A1, A2, A3, A4, A5, A6, A7 any](f func(context.Context, A1, A2, A3, A4, A5, A6, A7) (S, error), a1 A1, a2 A2, a3 A3, a4 A4, a5 A5, a6 A6, a7 A7) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3, a4, a5, a6, a7) }
}

// Bind8 binds the constructor f to 8 arguments: the Starter it returns calls
// f(ctx, a1, a2, a3, a4, a5, a6, a7, a8) on every start and restart.
func Bind8[S Service, A1, A2, A3, A4, A5, A6, A7, A8 any](f func(context.Context, A1, A2, A3, A4, A5, A6, A7, A8) (S, error), a1 A1, a2 A2, a3 A3, a4 A4, a5 A5, a6 A6, a7 A7, a8 A8) Starter[S] {
	return func(ctx context.Context) (S, error) { return f(ctx, a1, a2, a3, a4, a5, a6, a7, a8) }
}

// Ref is a typed handle to a child that stays valid across the child's
// restarts: it always names the latest incarnation that its Start started.
// Generated code passes a sibling's Ref as an argument where a spec says
// {ref: id}. A Ref is safe for concurrent use; its zero value is not usable:
// make one with NewRef.
type Ref[S Service] struct {
	start   Starter[S]
	current atomic.Pointer[incarnation[S]]
}

type incarnation[S Service] struct {
	svc    S
	handle Handle
}

// NewRef returns a Ref whose Start calls start.
func NewRef[S Service](start Starter[S]) *Ref[S] {
	return &Ref[S]{start: start}
}

// Start is the child's StartFunc: it starts a new incarnation and, when the
// start succeeds, makes the Ref point at it.
func (r *Ref[S]) Start(ctx context.Context) (Service, error) {
	svc, err := r.start(ctx)
	if err != nil {
		return nil, err
	}
	r.current.Store(&incarnation[S]{svc: svc, handle: Self(ctx)})
	return svc, nil
}

// Get returns the service of the latest incarnation and reports whether that
// incarnation is still running. Before the first start it returns the zero S
// and false.
func (r *Ref[S]) Get() (S, bool) {
	cur := r.current.Load()
	if cur == nil {
		var zero S
		return zero, false
	}
	return cur.svc, cur.handle.Alive()
}

// Handle returns the handle of the latest incarnation, or the zero Handle
// before the first start.
func (r *Ref[S]) Handle() Handle {
	if cur := r.current.Load(); cur != nil {
		return cur.handle
	}
	return Handle{}
}
