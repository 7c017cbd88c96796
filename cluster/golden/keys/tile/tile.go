// Package tile starts the children of cluster supervisor tiles, from
// another package than the generated code's.
package tile

import (
	"context"
	"time"

	"github.com/arborgo/arbor/runtime"
)

// Tile is one tile of the map.
type Tile struct{}

// Start starts a tile; tenants is *keys.TenantsSupervisor, which this
// package cannot name without importing the generated code's.
func Start[P comparable, T any](ctx context.Context, zoom int, every time.Duration, tenants T, at P, since time.Time, counts map[P]int) (*Tile, error) {
	return &Tile{}, nil
}

func (t *Tile) Serve(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

var _ runtime.Service = (*Tile)(nil)
