package runtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/runtime"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The snapshot shows the whole live tree: ids, types, states, restarts,
// last exit reasons and uptimes, with child supervisors' trees inside.
func TestSnapshot(t *testing.T) {
	tr := newTree(t)
	pool := runtime.ChildSpec{ID: "pool", Type: runtime.TypeSupervisor, Start: func(ctx context.Context) (runtime.Service, error) {
		return runtime.NewDynamicSupervisor(ctx, runtime.DynamicSupervisorSpec{Name: "pool", MaxChildren: 5})
	}}
	sup := tr.start(runtime.SupervisorSpec{Name: "top", Flags: flags(runtime.OneForOne, 1_000, 5), Children: []runtime.ChildSpec{
		tr.child("a"), tr.child("b"), tr.child("slow", stubborn(), shutdown(runtime.BrutalKill)), tr.child("stuck", backoff(time.Hour, time.Hour)), pool,
	}})
	tr.clk.Advance(time.Minute)
	tr.exitWith(sup, "a", errCrash)
	if err := sup.TerminateChild(tr.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	slow := handleOf(t, sup, "slow")
	if err := sup.TerminateChild(tr.ctx, "slow"); err != nil { // given up at once: lingering
		t.Fatal(err)
	}
	tr.exitWith(sup, "stuck", errCrash) // restarts in an hour: restarting until then
	poolSup, ok := runtime.ServiceOf[*runtime.DynamicSupervisor](handleOf(t, sup, "pool"))
	if !ok {
		t.Fatal("pool is not a dynamic supervisor")
	}
	if _, err := poolSup.StartChild(tr.ctx, tr.child("conn")); err != nil {
		t.Fatal(err)
	}
	tr.clk.Advance(time.Second)

	snap, err := sup.Snapshot(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := runtime.SupervisorSnapshot{
		Name: "top", Strategy: "one_for_one", AutoShutdown: "never", MaxRestarts: 1000, MaxSeconds: 5, RecentRestarts: 2,
		Children: []runtime.ChildSnapshot{
			{ID: "a", Type: "worker", Restart: "permanent", Shutdown: "5s", State: runtime.StateRunning, Restarts: 1, LastExit: "crash", Uptime: time.Second,
				Exits: []runtime.ExitRecord{{Handle: "top/a#1", At: time.Unix(1_000_060, 0), Reason: "crash", Uptime: time.Minute}}},
			{ID: "b", Type: "worker", Restart: "permanent", Shutdown: "5s", State: runtime.StateStopped, LastExit: "shutdown"},
			{ID: "slow", Type: "worker", Restart: "permanent", Shutdown: "brutal_kill", State: runtime.StateStopped, LastExit: "killed"},
			{ID: "stuck", Type: "worker", Restart: "permanent", Shutdown: "5s", State: runtime.StateRestarting, LastExit: "crash",
				Exits: []runtime.ExitRecord{{Handle: "top/stuck#1", At: time.Unix(1_000_060, 0), Reason: "crash", Uptime: time.Minute}}},
			{ID: "pool", Type: "supervisor", Restart: "permanent", Shutdown: "infinity", State: runtime.StateRunning, Uptime: 61 * time.Second,
				Supervisor: &runtime.SupervisorSnapshot{Name: "pool", Dynamic: true, Strategy: "one_for_one", MaxRestarts: 3, MaxSeconds: 5, MaxChildren: 5,
					Children: []runtime.ChildSnapshot{{ID: "conn", Type: "worker", Restart: "permanent", Shutdown: "5s", State: runtime.StateRunning, Uptime: time.Second}}}},
		},
		Lingering: []runtime.LingeringGoroutine{{ID: "slow", Path: "top/slow", Handle: "top/slow#1", Shutdown: "brutal_kill",
			GaveUpAt: time.Unix(1_000_060, 0), Outlived: time.Second}},
	}
	ignore := cmpopts.IgnoreFields(runtime.ChildSnapshot{}, "Handle", "Restarts", "Process")
	if diff := cmp.Diff(want, snap, ignore, cmpopts.IgnoreFields(runtime.SupervisorSnapshot{}, "Handle", "Process")); diff != "" {
		t.Fatalf("snapshot (-want +got):\n%s", diff)
	}
	if snap.Children[0].Restarts != 1 || snap.Children[3].Restarts != 0 {
		t.Fatalf("restart counts: %+v", snap.Children)
	}
	tr.releaseAll()
	defer waitLingeringGone(t, sup, slow)
	if h := snap.Children[0].Handle; !strings.HasPrefix(h, "top/a#") {
		t.Fatalf("handle = %q", h)
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"state":"restarting"`, `"last_exit":"crash"`, `"dynamic":true`, `"lingering":[{"id":"slow"`} {
		if !strings.Contains(string(raw), frag) {
			t.Fatalf("JSON lacks %s: %s", frag, raw)
		}
	}
}

// Applications list their trees.
func TestApplicationsSnapshot(t *testing.T) {
	tr := newTree(t)
	apps, err := runtime.StartApplications(tr.ctx, tr.app("db", runtime.StartPermanent), tr.app("web", runtime.StartTransient, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer apps.StopAll(context.Background())
	snaps, err := apps.Snapshot(tr.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[1].Name != "web" || snaps[1].StartType != "transient" || snaps[1].DependsOn[0] != "db" ||
		snaps[1].Tree == nil || snaps[1].Tree.Children[0].ID != "web" {
		t.Fatalf("snapshots = %+v", snaps)
	}
}
