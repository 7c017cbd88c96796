package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strings"

	"github.com/arborgo/arbor/runtime"
)

// Every child's goroutine carries pprof labels with its place in the tree,
// so that goroutine and CPU profiles group by child: `go tool pprof -tags`
// sums by label, and `-tagfocus=arbor.child=cache` keeps one child.
func Example_profileLabels() {
	ctx := runtime.WithEventHook(context.Background(), nil)
	apps, err := runtime.StartApplications(ctx, runtime.ApplicationSpec{Name: "shop",
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "shop", Children: []runtime.ChildSpec{
				{ID: "cache", Start: func(context.Context) (runtime.Service, error) { return idleService{}, nil }},
			}})
		}})
	if err != nil {
		panic(err)
	}
	defer apps.StopAll(ctx)

	var profile bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&profile, 1) // what /debug/pprof/goroutine?debug=1 serves
	for _, line := range strings.Split(profile.String(), "\n") {
		if strings.Contains(line, `"arbor.child":"cache"`) {
			fmt.Println(line)
		}
	}
	// Output:
	// # labels: {"arbor.application":"shop", "arbor.child":"cache", "arbor.incarnation":"1", "arbor.supervisor":"shop"}
}

// idleService runs until it is stopped.
type idleService struct{}

func (idleService) Serve(ctx context.Context) error { <-ctx.Done(); return nil }
