package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

// The intensity error of a dynamic supervisor names the child whose restart
// was refused: by its id, or by its handle when it has none.
func TestDynamicIntensityErrorNamesTheChild(t *testing.T) {
	tr := newTree(t)
	d, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "pool", MaxRestarts: 0, MaxSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	spec := tr.child("w")
	spec.ID = "" // as generated code starts them
	h, err := d.StartChild(tr.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	tr.worker("w").ctl <- func() error { return errCrash }
	var ie *runtime.IntensityError
	if err := d.Wait(); !errors.As(err, &ie) || ie.Child != h.String() || ie.Supervisor != "pool" {
		t.Fatalf("Wait = %#v, want an intensity error naming %v", err, h)
	}
}

// A process that registers a key it already holds is told so, as Elixir's
// unique Registry answers {:error, {:already_registered, self}}.
func TestRegisterTwiceBySameProcess(t *testing.T) {
	tr := newTree(t)
	reg := runtime.NewRegistry[string]()
	sup := tr.start(runtime.SupervisorSpec{Name: "s", Children: []runtime.ChildSpec{tr.child("a")}})
	h := handleOf(t, sup, "a")
	if err := reg.Register("k", h); err != nil {
		t.Fatal(err)
	}
	var ase *runtime.AlreadyStartedError
	if err := reg.Register("k", h); !errors.As(err, &ase) || ase.Handle != h {
		t.Fatalf("second Register = %v, want already started by %v", err, h)
	}
	if got := reg.Keys(h); len(got) != 1 {
		t.Fatalf("Keys = %v", got)
	}
}

// DynamicSupervisor.Stop stops every child at once: all are cancelled
// before any is waited for.
func TestDynamicStopCancelsAllAtOnce(t *testing.T) {
	tr := newTree(t)
	d, err := runtime.StartDynamicSupervisor(tr.ctx, runtime.DynamicSupervisorSpec{Name: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	var ws []*worker
	for _, id := range []string{"a", "b", "c"} {
		if _, err := d.StartChild(tr.ctx, tr.child(id, stubborn(), shutdown(runtime.Infinity))); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, tr.worker(id))
	}
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(context.Background()) }()
	for _, w := range ws { // each sees its cancellation while the others still run
		<-w.cancelled
	}
	tr.releaseAll()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
