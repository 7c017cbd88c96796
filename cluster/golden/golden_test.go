package golden_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arborgo/arbor/internal/goldentest"
	"github.com/arborgo/arbor/spec"
)

var update = flag.Bool("update", false, "rewrite the expected files of the golden cases")

// TestGolden regenerates every case of this folder and compares the code
// and drawings with the expected files (the code compiles as a package of
// the cluster module, and its tests run it); with -update it rewrites them.
func TestGolden(t *testing.T) {
	for _, dir := range goldentest.Cases(t, ".") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			goldentest.Run(t, dir, filepath.Base(dir), *update)
		})
	}
}

// TestExamplesUpToDate fails when a generated file of the module's
// examples is not what arbor generate writes from the spec beside it: arbor
// check ./... at the root of the repository does not reach this module.
func TestExamplesUpToDate(t *testing.T) { goldentest.CheckFresh(t, filepath.Join("..", "examples")) }

// The go-check tests run one go command at a time, not in parallel: the
// module's proofs run beside them and are sensitive to a loaded machine.

// goCheckCases hold a spec, the user's Go file with mistakes the spec
// meets, and the errors arbor generate gives; under testdata, so that the
// module's ./... leaves them out.
const goCheckCases = "testdata/gocheck"

func TestGoCheckGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	dirs, err := filepath.Glob(filepath.Join(goCheckCases, "*", goldentest.SpecFile))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no go-check cases: %v", err)
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			goldentest.Check(t, filepath.Join(dir, goldentest.ErrorsFile), []byte(goldentest.GoCheckErrors(t, dir)+"\n"), *update)
		})
	}
}

// TestGoCheckAcceptsWhatCompiles runs gocheck on every case and example,
// whose code compiles and runs: it must find no mistake.
func TestGoCheckAcceptsWhatCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	cases, _ := filepath.Glob(filepath.Join("*", goldentest.SpecFile))
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.arbor.yaml"))
	for _, p := range append(cases, examples...) {
		t.Run(p, func(t *testing.T) {
			goldentest.GoCheckAccepts(t, p)
		})
	}
}

// TestCasesCoverTheCluster checks that the cases together write every key
// of the spec language's cluster part.
func TestCasesCoverTheCluster(t *testing.T) {
	used := map[string]bool{}
	set := func(key string, p spec.Pos) {
		if p.IsValid() {
			used[key] = true
		}
	}
	for _, dir := range goldentest.Cases(t, ".") {
		src, err := os.ReadFile(filepath.Join(dir, goldentest.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(goldentest.SpecFile, src)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if c := s.Cluster; c != nil {
			set("cluster.name", c.Name.Pos)
			set("cluster.ttl", c.TTL.Pos)
			set("cluster.sync_nodes_timeout", c.SyncNodesTimeout.Pos)
			if len(c.SyncNodesMandatory) > 0 {
				used["cluster.sync_nodes_mandatory"] = true
			}
		}
		args := func(list []spec.Arg) {
			for _, a := range list {
				if a.Kind == spec.SupervisorArg {
					used["args.supervisor"] = true
				}
			}
		}
		for _, sup := range s.Supervisors {
			if sup.Cluster {
				used["supervisor.dynamic: cluster"] = true
			}
			set("supervisor.key", sup.Key.Pos)
			set("supervisor.max_moves", sup.MaxMoves.Pos)
			set("supervisor.move_backoff", sup.MoveBackoff.Pos)
			for _, c := range sup.Children {
				args(c.Args)
			}
			if t := sup.Template; t != nil {
				args(t.Args)
				if sup.Cluster && len(t.ExtraArgs) > 0 {
					used["cluster template.extra_args"] = true
				}
			}
		}
		for _, app := range s.Applications {
			args(app.PrepStopArgs)
			if d := app.Distributed; d != nil {
				set("distributed.nodes", d.NodesPos)
				set("distributed.failover_delay", d.FailoverDelay.Pos)
				set("distributed.takeover", d.Takeover.Pos)
				set("distributed.handoff", d.Handoff.Pos)
				args(d.HandoffArgs)
			}
		}
	}
	for _, k := range []string{
		"cluster.name", "cluster.ttl", "cluster.sync_nodes_mandatory", "cluster.sync_nodes_timeout",
		"supervisor.dynamic: cluster", "supervisor.key", "supervisor.max_moves", "supervisor.move_backoff",
		"cluster template.extra_args", "args.supervisor",
		"distributed.nodes", "distributed.failover_delay", "distributed.takeover", "distributed.handoff",
	} {
		if !used[k] {
			t.Errorf("no case writes %s", k)
		}
	}
}
