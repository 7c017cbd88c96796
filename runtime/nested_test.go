package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
)

func supervisorChild(id string, restart runtime.Restart, spec runtime.SupervisorSpec) runtime.ChildSpec {
	return runtime.ChildSpec{
		ID: id, Type: runtime.TypeSupervisor, Restart: restart,
		Start: func(ctx context.Context) (runtime.Service, error) { return runtime.NewSupervisor(ctx, spec) },
	}
}

// §1.2(5): a child supervisor that gives up exits with shutdown; a permanent
// parent spec restarts it (counted in the parent's intensity), a transient
// one leaves it stopped.
func TestEscalation(t *testing.T) {
	for _, c := range []struct {
		restart   runtime.Restart
		restarted bool
	}{{runtime.Permanent, true}, {runtime.Transient, false}, {runtime.Temporary, false}} {
		t.Run(c.restart.String(), func(t *testing.T) {
			tr := newTree(t)
			inner := runtime.SupervisorSpec{Name: "inner", Flags: flags(runtime.OneForOne, 0, 5), Children: []runtime.ChildSpec{tr.child("leaf")}}
			sup := tr.start(runtime.SupervisorSpec{Name: "outer", Flags: flags(runtime.OneForOne, 1, 5),
				Children: []runtime.ChildSpec{supervisorChild("inner", c.restart, inner)}})
			innerH := handleOf(t, sup, "inner")
			tr.worker("leaf").ctl <- func() error { return errCrash }
			waitDone(t, innerH)
			reason := innerH.Reason()
			if !errors.Is(reason, runtime.ErrReachedMaxRestartIntensity) || !runtime.IsShutdown(reason) {
				t.Fatalf("inner exit = %v", reason)
			}
			switch {
			case c.restarted:
				wantIDs(t, sup, "inner=running")
				if tr.startCount("leaf") != 2 {
					t.Fatal("leaf not started again under the new inner supervisor")
				}
			case c.restart == runtime.Transient:
				wantIDs(t, sup, "inner=undefined")
			default:
				wantIDs(t, sup)
			}
		})
	}
}

// A nested tree with all three strategies restarts and escalates as OTP
// would: repeated crashes deep down exhaust each level in turn, up to the top.
func TestNestedTreeEscalatesToTop(t *testing.T) {
	tr := newTree(t)
	leafSup := runtime.SupervisorSpec{Name: "leafsup", Flags: flags(runtime.RestForOne, 1, 5),
		Children: []runtime.ChildSpec{tr.child("l1"), tr.child("l2")}}
	mid := runtime.SupervisorSpec{Name: "mid", Flags: flags(runtime.OneForAll, 1, 5),
		Children: []runtime.ChildSpec{tr.child("m1"), supervisorChild("leafsup", runtime.Permanent, leafSup)}}
	top, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{Name: "top", Flags: flags(runtime.OneForOne, 1, 5),
		Children: []runtime.ChildSpec{tr.child("t1"), supervisorChild("mid", runtime.Permanent, mid)}})
	if err != nil {
		t.Fatal(err)
	}
	wantLog(t, tr, "start:t1", "start:m1", "start:l1", "start:l2")

	crashLeaf := func() {
		t.Helper()
		l1 := tr.worker("l1")
		select {
		case <-l1.cancelled:
			t.Fatal("l1 already stopped")
		default:
		}
		l1.ctl <- func() error { return errCrash }
	}
	// Each level allows 1 restart in its window, and a restarted supervisor
	// starts with a fresh window. Crash after crash of l1:
	//   odd crashes: leafsup restarts l1 and l2 (rest_for_one);
	//   2nd, 6th: leafsup gives up, mid restarts m1 and leafsup (one_for_all);
	//   4th: leafsup and mid give up, top restarts mid;
	//   8th: leafsup, mid and top give up: the tree stops.
	for crash := 1; crash <= 7; crash++ {
		crashLeaf()
		tr.events.waitFor(t, 0, "l2 restarted", func(e runtime.Event) bool {
			return e.Kind == runtime.ChildStarted && e.Child.ID == "l2" && tr.startCount("l2") == crash+1
		})
		log := tr.takeLog()
		switch crash {
		case 1:
			if diff := cmp.Diff([]string{"exit:l1", "stop:l2", "start:l1", "start:l2"}, log); diff != "" {
				t.Fatalf("crash 1: %s", diff)
			}
		case 2:
			if diff := cmp.Diff([]string{"exit:l1", "stop:l2", "stop:m1", "start:m1", "start:l1", "start:l2"}, log); diff != "" {
				t.Fatalf("crash 2: %s", diff)
			}
		}
	}
	crashLeaf()
	if err := top.Wait(); !errors.Is(err, runtime.ErrReachedMaxRestartIntensity) {
		t.Fatalf("top Wait = %v", err)
	}
	gaveUp := map[string]int{}
	for _, e := range tr.events.all() {
		if e.Kind == runtime.ReachedMaxRestartIntensity {
			gaveUp[e.Supervisor]++
		}
	}
	if diff := cmp.Diff(map[string]int{"leafsup": 4, "mid": 2, "top": 1}, gaveUp); diff != "" {
		t.Fatalf("reached_max_restart_intensity reports: %s", diff)
	}
	wantLog(t, tr, "exit:l1", "stop:l2", "stop:m1", "stop:t1")
}
