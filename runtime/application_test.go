package runtime_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

// app makes an application whose top supervisor has one child named after
// it; its hooks are logged.
func (tr *tree) app(name string, startType runtime.StartType, deps ...string) runtime.ApplicationSpec {
	spec := runtime.SupervisorSpec{Name: name, Children: []runtime.ChildSpec{tr.child(name)}}
	return runtime.ApplicationSpec{
		Name: name, StartType: startType, DependsOn: deps,
		Start:    func(ctx context.Context) (runtime.Service, error) { return runtime.NewSupervisor(ctx, spec) },
		PrepStop: func(context.Context) { tr.record("prep_stop:" + name) },
		Stop:     func(context.Context) { tr.record("stop_app:" + name) },
	}
}

func appEvents(tr *tree) []string {
	var out []string
	for _, e := range tr.events.all() {
		if e.Application != "" {
			r := ""
			if e.Reason != nil {
				r = " " + e.Reason.Error()
			}
			out = append(out, e.Kind.String()+":"+e.Application+r)
		}
	}
	return out
}

// §6 ensure_all_started: dependencies first, depth-first in list order,
// each once; stop in reverse start order, each with prep_stop, its tree,
// then stop.
func TestApplicationsStartOrderAndStop(t *testing.T) {
	tr := newTree(t)
	apps, err := runtime.StartApplications(tr.ctx,
		tr.app("web", runtime.StartPermanent, "db", "cache"),
		tr.app("db", runtime.StartPermanent, "log"),
		tr.app("cache", runtime.StartPermanent, "log"),
		tr.app("log", runtime.StartPermanent),
	)
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "start:log", "start:db", "start:cache", "start:web")
	if err := apps.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := apps.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	var want []string
	for _, a := range []string{"web", "cache", "db", "log"} {
		want = append(want, "prep_stop:"+a, "stop:"+a, "stop_app:"+a)
	}
	wantLog(t, tr, want...)
}

// §6: when one fails to start, those started by this call stop, newest
// first, and the error names it and the reason.
func TestApplicationStartFailure(t *testing.T) {
	tr := newTree(t)
	boom := errors.New("boom")
	tr.failNext("c", boom)
	_, err := runtime.StartApplications(tr.ctx,
		tr.app("a", runtime.StartPermanent), tr.app("b", runtime.StartPermanent), tr.app("c", runtime.StartPermanent), tr.app("d", runtime.StartPermanent))
	var ae *runtime.ApplicationError
	if !errors.As(err, &ae) || ae.Application != "c" || ae.Started || !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	wantLog(t, tr, "start:a", "start:b",
		"prep_stop:b", "stop:b", "stop_app:b", "prep_stop:a", "stop:a", "stop_app:a")
}

// §6: what an application's tree exiting by itself does, by start type.
func TestApplicationExitByStartType(t *testing.T) {
	for _, c := range []struct {
		startType runtime.StartType
		reason    error
		stopsAll  bool
	}{
		{runtime.StartPermanent, nil, true},
		{runtime.StartPermanent, errCrash, true},
		{runtime.StartTransient, nil, false},
		{runtime.StartTransient, errCrash, true},
		{runtime.StartTemporary, errCrash, false},
	} {
		t.Run(c.startType.String()+"/"+reasonName(c.reason), func(t *testing.T) {
			tr := newTree(t)
			failing := tr.app("failing", c.startType)
			// The failing app's tree is a bare service that exits as told.
			exit := make(chan struct{})
			failing.Start = func(context.Context) (runtime.Service, error) {
				return serviceFunc(func(ctx context.Context) error {
					select {
					case <-exit:
						return c.reason
					case <-ctx.Done():
						return nil
					}
				}), nil
			}
			apps, err := runtime.StartApplications(tr.ctx, tr.app("base", runtime.StartPermanent), failing, tr.app("top", runtime.StartPermanent))
			if err != nil {
				t.Fatal(err)
			}
			tr.takeLog()
			close(exit)
			if !c.stopsAll {
				tr.events.waitFor(t, 0, "failing exited", func(e runtime.Event) bool { return e.Kind == runtime.ApplicationExited })
				select {
				case <-apps.Done():
					t.Fatal("the other applications stopped")
				default:
				}
				wantLog(t, tr, "prep_stop:failing", "stop_app:failing")
				if err := apps.StopAll(context.Background()); err != nil {
					t.Fatal(err)
				}
				return
			}
			err = apps.Wait()
			var ae *runtime.ApplicationError
			if !errors.As(err, &ae) || ae.Application != "failing" || !ae.Started || ae.Reason != c.reason {
				t.Fatalf("Wait = %v", err)
			}
			wantLog(t, tr, "prep_stop:failing", "stop_app:failing",
				"prep_stop:top", "stop:top", "stop_app:top", "prep_stop:base", "stop:base", "stop_app:base")
		})
	}
}

// §6: an explicit stop of one application touches no other, whatever its
// start type.
func TestStopOneApplication(t *testing.T) {
	tr := newTree(t)
	apps, err := runtime.StartApplications(tr.ctx, tr.app("a", runtime.StartPermanent), tr.app("b", runtime.StartPermanent))
	if err != nil {
		t.Fatal(err)
	}
	tr.takeLog()
	if err := apps.Stop(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := apps.Stop(context.Background(), "a"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("second Stop = %v", err)
	}
	wantLog(t, tr, "prep_stop:a", "stop:a", "stop_app:a")
	select {
	case <-apps.Done():
		t.Fatal("stopping a stopped b")
	default:
	}
	if err := apps.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"application_started:a", "application_started:b", "application_exited:a stopped", "application_exited:b stopped"}, appEvents(tr)); diff != "" {
		t.Fatal(diff)
	}
}

// Unknown dependencies and cycles are errors that show the path.
func TestApplicationDependencyErrors(t *testing.T) {
	tr := newTree(t)
	_, err := runtime.StartApplications(tr.ctx, tr.app("a", runtime.StartPermanent, "nope"))
	if err == nil || !strings.Contains(err.Error(), `unknown application "nope"`) {
		t.Fatalf("unknown dep: %v", err)
	}
	_, err = runtime.StartApplications(tr.ctx, tr.app("a", runtime.StartPermanent, "b"), tr.app("b", runtime.StartPermanent, "c"), tr.app("c", runtime.StartPermanent, "a"))
	if err == nil || !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Fatalf("cycle: %v", err)
	}
	if tr.takeLog() != nil {
		t.Fatal("something started")
	}
}

// A signal starts a graceful stop; a second one stops the waiting.
func TestRunApplicationsSignals(t *testing.T) {
	tr := newTree(t)
	signals := make(chan os.Signal, 2)
	done := make(chan error, 1)
	go func() {
		done <- runtime.RunApplicationsWithSignals(tr.ctx, signals, tr.app("a", runtime.StartPermanent), tr.app("b", runtime.StartPermanent, "a"))
	}()
	tr.events.waitFor(t, 0, "b started", func(e runtime.Event) bool { return e.Kind == runtime.ApplicationStarted && e.Application == "b" })
	signals <- syscall.SIGTERM
	if err := waitErr(t, done); err != nil {
		t.Fatalf("graceful stop = %v", err)
	}
	wantLog(t, tr, "start:a", "start:b", "prep_stop:b", "stop:b", "stop_app:b", "prep_stop:a", "stop:a", "stop_app:a")

	// Second signal: a's tree ignores cancellation.
	tr2 := newTree(t)
	stuck := tr2.app("stuck", runtime.StartPermanent)
	spec := runtime.SupervisorSpec{Name: "stuck", Children: []runtime.ChildSpec{tr2.child("w", stubborn(), shutdown(runtime.Infinity))}}
	stuck.Start = func(ctx context.Context) (runtime.Service, error) { return runtime.NewSupervisor(ctx, spec) }
	go func() { done <- runtime.RunApplicationsWithSignals(tr2.ctx, signals, stuck) }()
	tr2.events.waitFor(t, 0, "started", func(e runtime.Event) bool { return e.Kind == runtime.ApplicationStarted })
	signals <- syscall.SIGINT
	waitClosed(t, tr2.worker("w").cancelled)
	signals <- syscall.SIGINT
	if err := waitErr(t, done); !errors.Is(err, runtime.ErrStopForced) {
		t.Fatalf("second signal = %v", err)
	}
	tr2.releaseAll() // let the stubborn child finish before goleak looks
	tr2.events.waitFor(t, 0, "exited", func(e runtime.Event) bool { return e.Kind == runtime.ApplicationExited })
}

// A cancelled context stops the applications as a request: Wait is nil.
func TestApplicationsContextCancel(t *testing.T) {
	tr := newTree(t)
	ctx, cancel := context.WithCancel(tr.ctx)
	apps, err := runtime.StartApplications(ctx, tr.app("a", runtime.StartPermanent))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := apps.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	wantLog(t, tr, "start:a", "prep_stop:a", "stop:a", "stop_app:a")
}
