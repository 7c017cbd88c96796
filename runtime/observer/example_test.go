package observer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/arborgo/arbor/clock"
	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/observer"
)

// Mount the observer on a debug mux, as with net/http/pprof, and read the
// tree as JSON. (A real program would use http.ListenAndServe; the fake
// clock here only makes the uptimes print the same every time.)
func Example() {
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	ctx := runtime.WithClock(context.Background(), clk)
	ctx = runtime.WithEventHook(ctx, func(runtime.Event) {})
	sup, err := runtime.StartSupervisor(ctx, runtime.SupervisorSpec{
		Name:  "sequence",
		Flags: runtime.Flags{Strategy: runtime.RestForOne},
		Children: []runtime.ChildSpec{
			{ID: "stash", Start: idle()},
			{ID: "server", Start: idle(), Restart: runtime.Transient, Shutdown: runtime.Timeout(time.Second)},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sup.Stop(context.Background())
	clk.Advance(90 * time.Second)

	mux := http.NewServeMux()
	mux.Handle("/debug/arbor/", http.StripPrefix("/debug/arbor", observer.New(observer.Supervisors(sup))))
	srv := httptest.NewServer(mux) // or: go http.ListenAndServe("localhost:6060", mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/debug/arbor/api/tree") // the page is at /debug/arbor/
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var tree observer.Tree
	if err := json.NewDecoder(resp.Body).Decode(&tree); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Header.Get("Content-Type"))
	for _, s := range tree.Supervisors {
		fmt.Printf("%s %s, %d in %ds\n", s.Handle, s.Strategy, s.MaxRestarts, s.MaxSeconds)
		for _, c := range s.Children {
			fmt.Printf("  %s %s %s restart=%s shutdown=%s restarts=%d uptime=%v\n", c.Handle, c.Type, c.State, c.Restart, c.Shutdown, c.Restarts, c.Uptime)
		}
	}
	// Output:
	// application/json
	// sequence#1 rest_for_one, 3 in 5s
	//   sequence/stash#1 worker running restart=permanent shutdown=5s restarts=0 uptime=1m30s
	//   sequence/server#1 worker running restart=transient shutdown=1s restarts=0 uptime=1m30s
}
