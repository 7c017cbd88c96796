package dynamic

import (
	"context"
	"time"

	"github.com/arborgo/arbor/runtime"
)

type svc struct{}

func (*svc) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

type Label struct{ Key, Value string }

func NewConn(ctx context.Context) (*svc, error) { return &svc{}, nil }

func NewJob(ctx context.Context, pool string, workers int, name string, limit *int, tags []string,
	window [4]time.Duration, labels map[string][]*Label, timeout time.Duration) (*svc, error) {
	return &svc{}, nil
}

func NewTeam(ctx context.Context, team string) (*runtime.Supervisor, error) {
	return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: team})
}
