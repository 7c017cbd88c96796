package keys

import (
	"context"
	"fmt"

	"github.com/arborgo/arbor/runtime"
)

// Point is a key that encodes itself as text, "x,y".
type Point struct{ X, Y int }

func (p Point) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%d,%d", p.X, p.Y), nil }

func (p *Point) UnmarshalText(b []byte) error {
	_, err := fmt.Sscanf(string(b), "%d,%d", &p.X, &p.Y)
	return err
}

// NewTenant starts a tenant's own supervisor, a child of type supervisor.
func NewTenant(ctx context.Context, id int64) (*runtime.Supervisor, error) {
	return runtime.NewSupervisor(ctx, runtime.SupervisorSpec{Name: fmt.Sprint("tenant-", id)})
}
