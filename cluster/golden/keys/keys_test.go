package keys

import (
	"reflect"
	"testing"

	"github.com/arborgo/arbor/cluster"
)

// The generated code makes each cluster supervisor with its key type and
// the type of its extra arguments, which the cluster module accepts.
func TestSpecs(t *testing.T) {
	if err := cluster.CheckArgs(reflect.TypeFor[TilesArgs]()); err != nil {
		t.Errorf("TilesArgs: %v", err)
	}
	if s := TilesSupervisorSpec(&Deps{}); s.Name != "tiles" || s.MaxMoves != 3 {
		t.Errorf("TilesSupervisorSpec = %+v", s)
	}
	// max_moves: 0 marks a child failed at its first move: the module
	// spells that -1.
	if s := TenantsSupervisorSpec(&Deps{}); s.MaxMoves != -1 {
		t.Errorf("TenantsSupervisorSpec().MaxMoves = %d, want -1", s.MaxMoves)
	}
}
