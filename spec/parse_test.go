package spec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/arborgo/arbor/spec"
)

func mustParse(t *testing.T, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("test.arbor.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParseResolvesDefaults(t *testing.T) {
	s := mustParse(t, `
version: 1
supervisors:
  top:
    children:
      - {id: w, start: NewW}
      - {id: own, start: NewOwn, type: supervisor}
      - {id: nested, supervisor: pool}
  pool:
    dynamic: true
    template: {start: NewJob}
applications:
  app: {supervisor: top}
`)
	top, pool := s.Supervisor("top"), s.Supervisor("pool")
	if top == nil || pool == nil {
		t.Fatal("supervisors missing")
	}
	type flags struct {
		Strategy     spec.Strategy
		MaxRestarts  int
		MaxSeconds   int
		AutoShutdown spec.AutoShutdown
		MaxChildren  int
	}
	for _, sup := range []*spec.Supervisor{top, pool} {
		got := flags{sup.Strategy.Val, sup.MaxRestarts.Val, sup.MaxSeconds.Val, sup.AutoShutdown.Val, sup.MaxChildren.Val}
		want := flags{spec.OneForOne, 3, 5, spec.Never, spec.Infinity}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s flags (-want +got):\n%s", sup.Name, diff)
		}
		if sup.Strategy.Pos.IsValid() {
			t.Errorf("%s: a default has a position: %v", sup.Name, sup.Strategy.Pos)
		}
	}
	type child struct {
		Restart  spec.Restart
		Type     spec.ChildType
		Shutdown spec.Shutdown
	}
	five := spec.Shutdown{Kind: spec.ShutdownTimeout, Timeout: 5 * time.Second}
	inf := spec.Shutdown{Kind: spec.ShutdownInfinity}
	wants := []child{
		{spec.Permanent, spec.Worker, five},
		{spec.Permanent, spec.SupervisorType, inf},
		{spec.Permanent, spec.SupervisorType, inf},
	}
	for i, c := range top.Children {
		got := child{c.Restart.Val, c.Type.Val, c.Shutdown.Val}
		if diff := cmp.Diff(wants[i], got); diff != "" {
			t.Errorf("child %s (-want +got):\n%s", c.ID.Val, diff)
		}
	}
	tpl := pool.Template
	if got := (child{tpl.Restart.Val, tpl.Type.Val, tpl.Shutdown.Val}); got != wants[0] {
		t.Errorf("template defaults = %+v, want %+v", got, wants[0])
	}
	if st := s.Applications[0].StartType.Val; st != spec.Temporary {
		t.Errorf("application start_type defaults to %q, want temporary", st)
	}
}

func TestParseKeepsPositions(t *testing.T) {
	s := mustParse(t, "version: 1\nsupervisors:\n  top:\n    strategy: one_for_all\n    children:\n      - id: w\n        start: NewW\n        args: [1, {duration: 1s}]\n")
	top := s.Supervisors[0]
	c := top.Children[0]
	for _, tc := range []struct {
		what string
		got  spec.Pos
		line int
		col  int
	}{
		{"supervisor name", top.Pos, 3, 3},
		{"strategy", top.Strategy.Pos, 4, 15},
		{"child", c.Pos, 6, 9},
		{"id", c.ID.Pos, 6, 13},
		{"start", c.Start.Pos, 7, 16},
		{"first arg", c.Args[0].Pos, 8, 16},
		{"duration arg", c.Args[1].Pos, 8, 19},
	} {
		want := spec.Pos{File: "test.arbor.yaml", Line: tc.line, Col: tc.col}
		if tc.got != want {
			t.Errorf("%s at %v, want %v", tc.what, tc.got, want)
		}
	}
}

func TestParseMergeKeys(t *testing.T) {
	s := mustParse(t, `
version: 1
x-a: &a {start: A, restart: transient}
x-b: &b {start: B, restart: temporary, shutdown: 1s}
supervisors:
  top:
    children:
      - {id: one, <<: *a}
      - {id: two, <<: [*a, *b]}
      - {id: three, <<: [*b, *a], restart: permanent}
`)
	type got struct {
		Start    string
		Restart  spec.Restart
		Shutdown time.Duration
	}
	want := []got{
		{"A", spec.Transient, 5 * time.Second},
		{"A", spec.Transient, time.Second},
		{"B", spec.Permanent, time.Second},
	}
	for i, c := range s.Supervisors[0].Children {
		g := got{c.Start.Val.Name, c.Restart.Val, c.Shutdown.Val.Timeout}
		if g != want[i] {
			t.Errorf("child %s = %+v, want %+v", c.ID.Val, g, want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	_, err := spec.Parse("bad.yaml", []byte("version: 1\nsupervisors:\n  a:\n    strategy: none\n    max_seconds: 0\n"))
	if !errors.Is(err, spec.ErrInvalid) {
		t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("want an ErrorList of 2, got %#v", err)
	}
	want := "bad.yaml:4:15: strategy \"none\" is invalid; allowed: one_for_one, one_for_all, rest_for_one\n" +
		"bad.yaml:5:18: max_seconds 0 is invalid; allowed: an integer from 1 to 2147483647"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestParseSelfReferentialAlias(t *testing.T) {
	for _, src := range []string{
		"version: 1\nsupervisors:\n  a:\n    children:\n      - id: x\n        start: X\n        args: &l [*l]\n",
		"version: 1\nsupervisors:\n  a: &m\n    children: []\n    <<: *m\n",
		"version: 1\nsupervisors: &s\n  a:\n    children:\n      - {id: x, supervisor: a, <<: *s}\n",
	} {
		if _, err := spec.Parse("cycle.yaml", []byte(src)); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		}
	}
}

func TestValidateHandBuiltSpec(t *testing.T) {
	s := &spec.Spec{
		Version: spec.Value[int]{Val: 1},
		Supervisors: []*spec.Supervisor{{
			Name:         "top",
			Strategy:     spec.Value[spec.Strategy]{Val: spec.OneForOne},
			MaxRestarts:  spec.Value[int]{Val: 3},
			MaxSeconds:   spec.Value[int]{Val: 5},
			AutoShutdown: spec.Value[spec.AutoShutdown]{Val: spec.Never},
			Children: []*spec.Child{{
				ID:       spec.Value[string]{Val: "w"},
				Start:    spec.Value[spec.Func]{Val: spec.Func{Name: "NewW"}},
				Restart:  spec.Value[spec.Restart]{Val: spec.Permanent},
				Type:     spec.Value[spec.ChildType]{Val: spec.Worker},
				Shutdown: spec.Value[spec.Shutdown]{Val: spec.Shutdown{Kind: spec.BrutalKill}},
			}},
		}},
	}
	if err := spec.Validate(s); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s.Supervisors[0].Children[0].Restart.Val = "sometimes"
	s.Supervisors[0].MaxSeconds.Val = 0
	err := spec.Validate(s)
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Validate = %v, want 2 errors", err)
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"a": "A", "my_pool": "MyPool", "myPool": "MyPool", "HTTP_server": "HTTPServer",
		"a__b": "AB", "x1_2y": "X12y", "trailing_": "Trailing",
	} {
		if got := spec.CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseType(t *testing.T) {
	for _, ok := range []string{
		"string", "int", "Local", "*T", "[]byte", "[4]int", "[0]int", "map[string]int",
		"map[string][]*example.com/x.T", "*[]map[int]*time.Duration", "example.com/a-b/c.v2.Type",
	} {
		typ, err := spec.ParseType(ok)
		if err != nil {
			t.Errorf("ParseType(%q): %v", ok, err)
			continue
		}
		if got := typ.String(); got != ok {
			t.Errorf("ParseType(%q).String() = %q", ok, got)
		}
	}
	for _, bad := range []string{
		"", "*", "[]", "[x]int", "[01]int", "[99999999999999999999]int", "map[string]", "map[string", "map",
		"func()", "chan int", "struct{}", "interface{}", "List[int]", "x.lower", "_", "type", "a b",
		"example.com//x.T", ".T", strings.Repeat("*", 100) + "int",
	} {
		if _, err := spec.ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) succeeded", bad)
		}
	}
}

func TestParseFunc(t *testing.T) {
	for in, want := range map[string]spec.Func{
		"NewX":                       {Name: "NewX"},
		"newX":                       {Name: "newX"},
		"example.com/pkg/path.Func":  {Path: "example.com/pkg/path", Name: "Func"},
		"fmt.Println":                {Path: "fmt", Name: "Println"},
		"gopkg.in/yaml.v3.Unmarshal": {Path: "gopkg.in/yaml.v3", Name: "Unmarshal"},
	} {
		got, err := spec.ParseFunc(in)
		if err != nil || got != want {
			t.Errorf("ParseFunc(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("ParseFunc(%q).String() = %q", in, got.String())
		}
	}
	for _, bad := range []string{"", "_", "func", "New X", ".F", "pkg.f", "a/.F", "x/y.", "Ñ", "a\nb"} {
		if _, err := spec.ParseFunc(bad); err == nil {
			t.Errorf("ParseFunc(%q) succeeded", bad)
		}
	}
}

// TestParseAliasKeys: a key may be an alias of a string, and counts as that
// string for duplicates. (FuzzSchema found that an alias key made Parse
// panic.)
func TestParseAliasKeys(t *testing.T) {
	s := mustParse(t, "version: 1\nx-key: &k strategy\nsupervisors:\n  a: {*k : one_for_all, children: []}\n")
	if got := s.Supervisors[0].Strategy.Val; got != spec.OneForAll {
		t.Errorf("strategy through an alias key = %q", got)
	}
	for src, want := range map[string]string{
		"version: 1\nx-key: &k strategy\nsupervisors:\n  a: {*k : one_for_all, strategy: rest_for_one}\n": `a.yaml:4:25: duplicate key "strategy" in supervisor "a" (first at 4:7)`,
		"0: &worker\n 0A0\nsupervisors:\n 0A:\n    children:\n      - {*worker}\n":                        `unknown key "0A0" in child`,
	} {
		_, err := spec.Parse("a.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, err, want)
		}
	}
}
