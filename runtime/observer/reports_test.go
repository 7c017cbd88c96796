package observer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

// What a log pipeline sees of a tree: the default sink, runtime.SlogHook,
// over slog's JSON handler. The observer shows the tree now; these records
// are its history, and a pipeline filters them by field, so the fields are
// checked by name and value.

// syncBuffer is a bytes.Buffer safe for the supervisors' goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records decodes the JSON lines written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not a JSON record: %s", sc.Bytes())
		}
		delete(rec, "time") // the handler's wall clock
		out = append(out, rec)
	}
	return out
}

// panicOnStop serves until it is stopped, and then panics: a child that
// crashes while being shut down.
type panicOnStop struct{}

func (panicOnStop) Serve(ctx context.Context) error {
	<-ctx.Done()
	panic("cleanup failed")
}

// reportedTree runs the four OTP reports through a sink at level: worker w
// crashes (child_terminated), fails to start again (start_error), and its
// retry exceeds the intensity of 1 (shutdown); then another supervisor
// stops a child that panics while stopping (shutdown_error). It returns the
// records.
func reportedTree(t *testing.T, level slog.Level) []map[string]any {
	t.Helper()
	var buf syncBuffer
	sink := runtime.SlogHook(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})))
	kinds := make(chan runtime.EventKind, 64)
	ctx := runtime.WithClock(context.Background(), clock.NewFake(time.Unix(1_000_000, 0)))
	ctx = runtime.WithEventHook(ctx, func(e runtime.Event) {
		sink(e)
		kinds <- e.Kind
	})
	await := func(want runtime.EventKind) {
		t.Helper()
		timeout := time.NewTimer(waitLimit)
		defer timeout.Stop()
		for {
			select {
			case k := <-kinds:
				if k == want {
					return
				}
			case <-timeout.C:
				t.Fatalf("no %s report", want)
			}
		}
	}

	crash := make(chan error)
	starts := 0
	top, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:  "top",
		Flags: runtime.Flags{Strategy: runtime.OneForOne, MaxRestarts: 1, MaxSeconds: 5},
		Children: []runtime.ChildSpec{{ID: "w", Start: func(context.Context) (runtime.Service, error) {
			starts++ // start functions run in the supervisor's goroutine, one at a time
			if starts > 1 {
				return nil, errors.New("database unreachable")
			}
			return &worker{crash: crash}, nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	await(runtime.ChildStarted)
	crash <- errors.New("boom")
	await(runtime.ChildTerminated)
	await(runtime.StartError)
	await(runtime.ReachedMaxRestartIntensity)
	if err := top.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("top exited with %v", err)
	}

	calm, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name: "calm",
		Children: []runtime.ChildSpec{{ID: "p", Restart: runtime.Transient, Significant: false, Shutdown: runtime.Infinity,
			Start: func(context.Context) (runtime.Service, error) { return panicOnStop{}, nil }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := calm.TerminateChild(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	await(runtime.ShutdownError)
	if err := calm.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return buf.records(t)
}

func offender(pid, id, restart, shutdown string) map[string]any {
	return map[string]any{"pid": pid, "id": id, "restart_type": restart, "shutdown": shutdown, "child_type": "worker", "significant": false}
}

// The four reports at error level and progress at debug, each with OTP's
// fields: error_context, supervisor, offender (pid, id, restart_type,
// shutdown, child_type, significant) and reason.
func TestSlogReports(t *testing.T) {
	got := reportedTree(t, slog.LevelDebug)
	w1 := offender("top/w#1", "w", "permanent", "5s")
	wUndefined := offender("undefined", "w", "permanent", "5s")
	want := []map[string]any{
		{"level": "DEBUG", "msg": "child started", "error_context": "progress", "supervisor": "top", "offender": w1},
		{"level": "ERROR", "msg": "child terminated", "error_context": "child_terminated", "supervisor": "top", "offender": w1, "reason": "boom"},
		{"level": "ERROR", "msg": "child failed to start", "error_context": "start_error", "supervisor": "top", "offender": wUndefined, "reason": "database unreachable"},
		{"level": "ERROR", "msg": "supervisor reached max restart intensity", "error_context": "shutdown", "supervisor": "top", "offender": wUndefined, "reason": "arbor: too many restarts (reached_max_restart_intensity)"},
		{"level": "DEBUG", "msg": "child started", "error_context": "progress", "supervisor": "calm", "offender": offender("calm/p#1", "p", "transient", "infinity")},
		{"level": "ERROR", "msg": "child shut down abnormally", "error_context": "shutdown_error", "supervisor": "calm", "offender": offender("calm/p#1", "p", "transient", "infinity"), "reason": "panic: cleanup failed"},
	}
	// A panic's report carries its stack, where it happened.
	last := got[len(got)-1]
	if stack, _ := last["stack"].(string); !strings.Contains(stack, "reports_test.go") {
		t.Fatalf("shutdown_error of a panic has no stack: %v", last)
	}
	delete(last, "stack")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	// A pipeline selects the four reports by error_context alone.
	var reports []string
	for _, rec := range got {
		if ec := rec["error_context"]; ec != "progress" {
			reports = append(reports, ec.(string))
		}
	}
	if strings.Join(reports, " ") != "child_terminated start_error shutdown shutdown_error" {
		t.Fatalf("reports = %v", reports)
	}
}

// At the usual info level, progress is left out and the reports stay.
func TestSlogProgressIsDebug(t *testing.T) {
	var contexts []string
	for _, rec := range reportedTree(t, slog.LevelInfo) {
		if rec["level"] != "ERROR" {
			t.Errorf("record at %v: %v", rec["level"], rec)
		}
		contexts = append(contexts, rec["error_context"].(string))
	}
	if strings.Join(contexts, " ") != "child_terminated start_error shutdown shutdown_error" {
		t.Fatalf("records at info level: %v", contexts)
	}
}
