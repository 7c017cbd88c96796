package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/arborgo/arbor/runtime"
)

func withAuto(s runtime.Strategy, a runtime.AutoShutdown) runtime.Flags {
	return runtime.Flags{Strategy: s, MaxRestarts: 3, MaxSeconds: 5, AutoShutdown: a}
}

// §1.3: any_significant stops the supervisor when a significant child exits
// by itself without a restart; the others stop in reverse order.
func TestAnySignificant(t *testing.T) {
	for _, c := range []struct {
		restart runtime.Restart
		reason  error
	}{
		{runtime.Transient, nil},
		{runtime.Transient, runtime.Shutdown(errors.New("done"))},
		{runtime.Temporary, nil},
		{runtime.Temporary, errCrash},
	} {
		t.Run(c.restart.String()+"/"+reasonName(c.reason), func(t *testing.T) {
			tr := newTree(t)
			sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
				Name:     "s",
				Flags:    withAuto(runtime.OneForOne, runtime.AnySignificant),
				Children: []runtime.ChildSpec{tr.child("a"), tr.child("sig", restart(c.restart), significant()), tr.child("b")},
			})
			if err != nil {
				t.Fatal(err)
			}
			tr.takeLog()
			tr.exitWith(sup, "sig", c.reason)
			err = sup.Wait()
			if !runtime.IsShutdown(err) || !errors.Is(err, runtime.ErrAutoShutdown) {
				t.Fatalf("Wait = %v, want shutdown(auto_shutdown)", err)
			}
			wantLog(t, tr, "exit:sig", "stop:b", "stop:a")
		})
	}
}

// A significant transient child that crashes is restarted; no auto_shutdown.
func TestSignificantCrashRestarts(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{
		Name:     "s",
		Flags:    withAuto(runtime.OneForOne, runtime.AnySignificant),
		Children: []runtime.ChildSpec{tr.child("sig", restart(runtime.Transient), significant())},
	})
	tr.exitWith(sup, "sig", errCrash)
	wantIDs(t, sup, "sig=running")
}

// all_significant stops the supervisor only when no significant child is
// left running.
func TestAllSignificant(t *testing.T) {
	tr := newTree(t)
	sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
		Name:  "s",
		Flags: withAuto(runtime.OneForOne, runtime.AllSignificant),
		Children: []runtime.ChildSpec{
			tr.child("s1", restart(runtime.Temporary), significant()),
			tr.child("s2", restart(runtime.Transient), significant()),
			tr.child("other"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.exitWith(sup, "s1", nil)
	wantIDs(t, sup, "other=running", "s2=running")
	tr.exitWith(sup, "s2", nil)
	if err := sup.Wait(); !errors.Is(err, runtime.ErrAutoShutdown) {
		t.Fatalf("Wait = %v", err)
	}
}

// A significant child stopped by the supervisor (terminate_child, or as a
// bystander of a group restart) does not trigger auto_shutdown.
func TestSupervisorStoppedSignificantDoesNotTrigger(t *testing.T) {
	tr := newTree(t)
	sup := tr.start(runtime.SupervisorSpec{
		Name:  "s",
		Flags: withAuto(runtime.OneForAll, runtime.AnySignificant),
		Children: []runtime.ChildSpec{
			tr.child("sig", restart(runtime.Transient), significant()),
			tr.child("tsig", restart(runtime.Temporary), significant()),
			tr.child("p"),
		},
	})
	tr.exitWith(sup, "p", errCrash) // one_for_all stops both significant children
	wantIDs(t, sup, "p=running", "sig=running")
	if err := sup.TerminateChild(tr.ctx, "sig"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, sup, "p=running", "sig=undefined")
}

// Escalation: a significant child supervisor that auto-shuts-down triggers
// its parent's auto_shutdown; a non-significant one does not.
func TestSignificantEscalation(t *testing.T) {
	for _, sig := range []bool{true, false} {
		t.Run(map[bool]string{true: "significant", false: "not_significant"}[sig], func(t *testing.T) {
			tr := newTree(t)
			inner := runtime.SupervisorSpec{
				Name:     "inner",
				Flags:    withAuto(runtime.OneForOne, runtime.AnySignificant),
				Children: []runtime.ChildSpec{tr.child("leaf", restart(runtime.Transient), significant())},
			}
			innerChild := runtime.ChildSpec{
				ID: "inner", Type: runtime.TypeSupervisor, Restart: runtime.Transient, Significant: sig,
				Start: func(ctx context.Context) (runtime.Service, error) { return runtime.NewSupervisor(ctx, inner) },
			}
			sup, err := runtime.StartSupervisor(tr.ctx, runtime.SupervisorSpec{
				Name:     "outer",
				Flags:    withAuto(runtime.OneForOne, runtime.AnySignificant),
				Children: []runtime.ChildSpec{tr.child("sibling"), innerChild},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sup.Stop(context.Background())
			innerHandle := handleOf(t, sup, "inner")
			tr.worker("leaf").ctl <- func() error { return nil }
			waitDone(t, innerHandle)
			if sig {
				if err := sup.Wait(); !errors.Is(err, runtime.ErrAutoShutdown) {
					t.Fatalf("outer Wait = %v, want auto_shutdown", err)
				}
				return
			}
			wantIDs(t, sup, "inner=undefined", "sibling=running")
		})
	}
}

// §1.3, §2.4: the combinations OTP rejects.
func TestBadCombinations(t *testing.T) {
	tr := newTree(t)
	cases := []runtime.SupervisorSpec{
		{Flags: withAuto(runtime.OneForOne, runtime.Never), Children: []runtime.ChildSpec{tr.child("x", restart(runtime.Transient), significant())}},
		{Flags: withAuto(runtime.OneForOne, runtime.AnySignificant), Children: []runtime.ChildSpec{tr.child("x", significant())}},
	}
	for _, spec := range cases {
		_, err := runtime.NewSupervisor(tr.ctx, spec)
		var se *runtime.SpecError
		if !errors.As(err, &se) || se.Term != "bad_combination" {
			t.Fatalf("err = %v, want bad_combination", err)
		}
	}
	sup := tr.start(runtime.SupervisorSpec{Name: "s"})
	if _, err := sup.StartChild(tr.ctx, tr.child("x", restart(runtime.Temporary), significant())); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("StartChild = %v, want bad_combination", err)
	}
}
