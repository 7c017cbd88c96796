package health_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/arborgo/arbor/runtime"
	"github.com/arborgo/arbor/runtime/health"
)

// idle is a child that runs until it is stopped.
type idle struct{}

func (idle) Serve(ctx context.Context) error { <-ctx.Done(); return nil }

// A program mounts the handler before it starts its applications, watches
// them once they have all started, and is not ready as soon as their stop
// begins.
func Example() {
	h := health.New()
	mux := http.NewServeMux()
	mux.Handle("/livez", h)
	mux.Handle("/readyz", h)
	srv := httptest.NewServer(mux) // a program would ListenAndServe on its probe port
	defer srv.Close()
	show := func(path string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %s", path, resp.StatusCode, body)
	}

	show("/readyz")
	ctx := runtime.WithEventHook(context.Background(), nil)
	apps, err := runtime.StartApplications(ctx, runtime.ApplicationSpec{Name: "shop",
		Start: func(ctx context.Context) (runtime.Service, error) {
			return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: "shop", Children: []runtime.ChildSpec{
				{ID: "api", Start: func(context.Context) (runtime.Service, error) { return idle{}, nil }},
			}})
		},
		PrepStop: func(context.Context) { show("/readyz") }, // traffic drains here
	})
	if err != nil {
		panic(err)
	}
	if err := h.Watch(ctx, apps); err != nil {
		panic(err)
	}
	show("/readyz")
	apps.StopAll(ctx)
	apps.Wait()
	show("/livez")
	// Output:
	// /readyz 503 {"status":"not ready","checks":[{"name":"started","ok":false,"reason":"starting: no applications are watched yet (Watch is called once they have all started)"},{"name":"shutdown","ok":true}]}
	// /readyz 200 {"status":"ready","checks":[{"name":"shutdown","ok":true},{"name":"application shop","ok":true}]}
	// /readyz 503 {"status":"not ready","checks":[{"name":"shutdown","ok":false,"reason":"shutdown has begun: the applications are stopping"}]}
	// /livez 503 {"status":"not live","checks":[{"name":"applications","ok":false,"reason":"every application has stopped"}]}
}
