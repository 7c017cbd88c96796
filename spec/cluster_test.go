package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/spec"
)

// A model built in Go, whose values have no positions, is checked by the
// rules of the cluster part too: each error is reported at the position of
// what holds the value (here the spec's, 1:1), and the zero values stand
// for the defaults.
func TestValidateClusterModel(t *testing.T) {
	pos := spec.Pos{File: "go.arbor.yaml", Line: 1, Col: 1}
	base := func() *spec.Spec {
		return &spec.Spec{
			Pos: pos, Version: spec.Value[int]{Val: spec.Version},
			Cluster: &spec.Cluster{Name: spec.Value[string]{Val: "shop"}},
			Supervisors: []*spec.Supervisor{{
				Name: "carts", Dynamic: spec.Value[bool]{Val: true}, Cluster: true,
				Strategy: spec.Value[spec.Strategy]{Val: spec.OneForOne}, MaxRestarts: spec.Value[int]{Val: 3},
				MaxSeconds: spec.Value[int]{Val: 5}, AutoShutdown: spec.Value[spec.AutoShutdown]{Val: spec.Never},
				MaxChildren: spec.Value[int]{Val: spec.Infinity},
				Template: &spec.Template{Start: spec.Value[spec.Func]{Val: spec.Func{Name: "NewCart"}},
					Restart: spec.Value[spec.Restart]{Val: spec.Permanent}, Type: spec.Value[spec.ChildType]{Val: spec.Worker},
					Shutdown: spec.Value[spec.Shutdown]{Val: spec.Shutdown{Timeout: time.Second}}},
			}},
		}
	}
	if err := spec.Validate(base()); err != nil {
		t.Fatalf("a valid model: %v", err)
	}
	for _, tc := range []struct {
		what   string
		change func(*spec.Spec)
		want   string
	}{
		{"no name", func(s *spec.Spec) { s.Cluster.Name.Val = "" }, `go.arbor.yaml:1:1: cluster has no name`},
		{"a short ttl", func(s *spec.Spec) { s.Cluster.TTL.Val = time.Second }, `ttl 1s is under etcd's minimum of 2s`},
		{"no cluster", func(s *spec.Spec) { s.Cluster = nil }, `cluster supervisor "carts" needs the spec's cluster section`},
		{"a float key", func(s *spec.Spec) {
			s.Supervisors[0].Key.Val = &spec.TypeExpr{Kind: spec.NamedType, Name: "float64"}
		}, `key float64 of cluster supervisor "carts" cannot be a cluster key, as a floating-point number`},
		{"no template", func(s *spec.Spec) { s.Supervisors[0].Template = nil }, `cluster supervisor "carts" has no template`},
		{"a negative move backoff", func(s *spec.Spec) { s.Supervisors[0].MoveBackoff.Val = -time.Second }, `move_backoff -1s is invalid`},
		{"a distributed application without nodes", func(s *spec.Spec) {
			s.Applications = []*spec.Application{{Name: "billing", Supervisor: spec.Value[string]{Val: "carts"},
				StartType: spec.Value[spec.Restart]{Val: spec.Temporary}, Distributed: &spec.Distributed{}}}
		}, `distributed of application "billing" has no nodes`},
	} {
		s := base()
		tc.change(s)
		err := spec.Validate(s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.what, err, tc.want)
		}
	}
}
