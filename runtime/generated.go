package runtime

import "context"

// This file holds what the code that arbor generates calls beyond the API
// that hand-written programs use. Generated code lists the children of a
// static supervisor as a table of rows, static data the compiler emits as it
// is, whatever the size of the table, and calls each start function directly
// in a small function of its own, so that building a generated tree costs
// the compiler time in proportion to its size. Hand-written code may use
// these too; ChildSpec remains the way to describe a child.

// TimeoutZero is Timeout(0) as a constant. For every d > 0, ShutdownSpec(d)
// is Timeout(d); generated tables of children write a timeout in one of these
// two forms, which are constants.
const TimeoutZero = zeroTimeout

// ChildRow is one child in a generated supervisor's table: a ChildSpec
// without a Name, with its Backoff as a value, so that a table of rows is
// constant data. The zero Backoff means none.
type ChildRow struct {
	ID          string
	Start       StartFunc
	Restart     Restart
	Type        ChildType
	Significant bool
	Shutdown    ShutdownSpec
	Backoff     Backoff
}

// spec returns the ChildSpec of r, with a Backoff of its own.
func (r *ChildRow) spec() ChildSpec {
	cs := ChildSpec{
		ID:          r.ID,
		Start:       r.Start,
		Restart:     r.Restart,
		Type:        r.Type,
		Significant: r.Significant,
		Shutdown:    r.Shutdown,
	}
	if r.Backoff != (Backoff{}) {
		b := r.Backoff
		cs.Backoff = &b
	}
	return cs
}

// Children returns the child specs of rows, in order. Each is new: changing
// one changes neither rows nor the specs of an earlier call.
//
// It is never inlined, so that each generated supervisor calls it rather
// than compile a copy of its loop.
//
//go:noinline
func Children(rows []ChildRow) []ChildSpec {
	specs := make([]ChildSpec, len(rows))
	for i := range rows {
		specs[i] = rows[i].spec()
	}
	return specs
}

// ChildRowFor is one child in the table of a generated supervisor whose
// children need a value of type E from its caller: the spec's Deps, its
// dependencies and registries. ChildRow holds what does not depend on it;
// its Start is left nil.
type ChildRowFor[E any] struct {
	ChildRow
	// StartWith, when not nil, starts the child with the caller's value.
	StartWith func(ctx context.Context, env E) (Service, error)
	// Registry, when not nil, names the child: each incarnation registers
	// as Key in Registry(env), as ChildSpec.Name says. Generated code uses
	// it for the registries of string keys without values, one method of
	// E per registry.
	Registry func(env E) *Registry[string]
	Key      string
	// NameWith, when not nil, names the child with the Name it returns for
	// env: generated code uses it for a key of another type or a value, one
	// method of E per child, so that the table stays constant data whatever
	// the registry's types.
	NameWith func(env E) Name
}

// ChildrenFor returns the child specs of rows for env, in order, each new as
// Children makes them: Start calls StartWith with env, and Name is Key in the
// registry of env that Registry returns, or what NameWith returns for env.
// It is never inlined, as Children.
//
//go:noinline
func ChildrenFor[E any](env E, rows []ChildRowFor[E]) []ChildSpec {
	specs := make([]ChildSpec, len(rows))
	for i := range rows {
		r := &rows[i]
		specs[i] = r.spec()
		if start := r.StartWith; start != nil {
			specs[i].Start = func(ctx context.Context) (Service, error) { return start(ctx, env) }
		}
		switch {
		case r.Registry != nil:
			specs[i].Name = r.Registry(env).Name(r.Key)
		case r.NameWith != nil:
			specs[i].Name = r.NameWith(env)
		}
	}
	return specs
}
