package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
)

type parked struct{}

func (*parked) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// The constant forms of a timeout that generated tables write are the
// timeouts Timeout makes.
func TestTimeoutConstants(t *testing.T) {
	if runtime.TimeoutZero != runtime.Timeout(0) {
		t.Errorf("TimeoutZero = %v, want Timeout(0) = %v", runtime.TimeoutZero, runtime.Timeout(0))
	}
	for _, d := range []time.Duration{1, time.Millisecond, 5 * time.Second, time.Hour, 1<<63 - 1} {
		if runtime.ShutdownSpec(d) != runtime.Timeout(d) {
			t.Errorf("ShutdownSpec(%v) = %v, want Timeout(%v) = %v", d, runtime.ShutdownSpec(d), d, runtime.Timeout(d))
		}
	}
}

func TestChildrenAreNewEachTime(t *testing.T) {
	start := func(ctx context.Context) (runtime.Service, error) { return &parked{}, nil }
	rows := []runtime.ChildRow{
		{ID: "a", Start: start, Restart: runtime.Transient, Type: runtime.TypeWorker, Shutdown: runtime.BrutalKill,
			Backoff: runtime.Backoff{Min: time.Millisecond, Max: time.Second, Jitter: 0.5}},
		{ID: "b", Start: start, Significant: true, Shutdown: runtime.TimeoutZero},
	}
	first := runtime.Children(rows)
	if len(first) != 2 || first[0].ID != "a" || first[0].Restart != runtime.Transient || first[0].Shutdown != runtime.BrutalKill ||
		first[0].Backoff == nil || *first[0].Backoff != rows[0].Backoff {
		t.Fatalf("Children = %+v", first)
	}
	if first[1].Backoff != nil || !first[1].Significant || first[1].Shutdown != runtime.Timeout(0) {
		t.Errorf("b = %+v, want no backoff, significant, Timeout(0)", first[1])
	}
	first[0].Backoff.Min = time.Hour
	first[0].ID = "changed"
	second := runtime.Children(rows)
	if second[0].ID != "a" || second[0].Backoff.Min != time.Millisecond || rows[0].Backoff.Min != time.Millisecond {
		t.Errorf("a change to one call's specs shows in the rows or the next call: %+v", second[0])
	}
}

type tableEnv struct {
	names *runtime.Registry[string]
	n     int
}

func TestChildrenForBindsTheValue(t *testing.T) {
	e := &tableEnv{names: runtime.NewRegistry[string](), n: 7}
	var got []int
	rows := []runtime.ChildRowFor[*tableEnv]{
		{
			ChildRow: runtime.ChildRow{ID: "named"},
			StartWith: func(ctx context.Context, e *tableEnv) (runtime.Service, error) {
				got = append(got, e.n)
				return &parked{}, nil
			},
			Registry: func(e *tableEnv) *runtime.Registry[string] { return e.names },
			Key:      "the one",
		},
		{ChildRow: runtime.ChildRow{ID: "plain", Start: func(ctx context.Context) (runtime.Service, error) { return &parked{}, nil }}},
	}
	specs := runtime.ChildrenFor(e, rows)
	if specs[0].Name == nil || specs[0].Name.String() != "the one" || specs[1].Name != nil || specs[1].Start == nil {
		t.Fatalf("ChildrenFor = %+v", specs)
	}
	ctx, cancel := context.WithCancel(runtime.WithEventHook(context.Background(), func(runtime.Event) {}))
	defer cancel()
	sup, err := runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "top", Children: specs})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sup.Serve(ctx) }()
	if len(got) != 1 || got[0] != 7 {
		t.Errorf("the start function got %v, want the value's 7 once", got)
	}
	h, ok := e.names.Lookup("the one")
	if !ok || !h.Alive() {
		t.Errorf("the child is not registered under its key: %v, %v", h, ok)
	}
	cancel()
	if err := <-done; err != nil && !runtime.IsShutdown(err) {
		t.Errorf("Serve = %v", err)
	}
}
