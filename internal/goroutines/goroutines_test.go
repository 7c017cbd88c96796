package goroutines

import (
	"context"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	text := "goroutine profile: total 3\n" +
		"2 @ 0x442931 0x47cd1d\n" +
		"# labels: {\"a.b\":\"x\\\"y\", \"c\":\"d, e\"}\n" +
		"#\t0x4c8770\truntime/pprof.writeRuntimeProfile+0xb0\t/usr/local/go/src/runtime/pprof/pprof.go:851\n" +
		"#\t0x4dc0ad\tmain.main+0x16d\t\t\t\t/tmp/my dir/main.go:16\n" +
		"\n" +
		"1 @ 0x4dc0e1 0x483e41\n" +
		"#\t0x4dc0e0\tmain.main.func2+0x0\t/tmp/gp/main.go:15\n" +
		"\n"
	got, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{
		{Count: 2, Labels: map[string]string{"a.b": `x"y`, "c": "d, e"}, Stack: []Frame{
			{Func: "runtime/pprof.writeRuntimeProfile", File: "/usr/local/go/src/runtime/pprof/pprof.go", Line: 851},
			{Func: "main.main", File: "/tmp/my dir/main.go", Line: 16},
		}},
		{Count: 1, Stack: []Frame{{Func: "main.main.func2", File: "/tmp/gp/main.go", Line: 15}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Parse (-want +got):\n%s", diff)
	}
	if n := Count(Matching(got, map[string]string{"c": "d, e"})); n != 2 {
		t.Errorf("Matching c=d, e counts %d goroutines, want 2", n)
	}
	if n := len(Matching(got, map[string]string{"c": "d"})); n != 0 {
		t.Errorf("Matching c=d found %d groups, want none", n)
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"nonsense\n",
		"1 @ 0x1\n# labels: {\"a\" \"b\"}\n",
		"1 @ 0x1\n# labels: {a:b}\n",
		"#\t0x1\tmain.f+0x1\t/x.go:1\n",
		"1 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:one\n",
	} {
		if _, err := Parse([]byte(text)); err == nil || !strings.Contains(err.Error(), "goroutine profile line") {
			t.Errorf("Parse(%q) = %v, want an error naming the line", text, err)
		}
	}
}

// A live profile shows a labelled goroutine with its labels and stack.
func TestProfile(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels("goroutines.test", "parked"), func(context.Context) {
		go func() {
			defer close(done)
			<-stop
		}()
	})
	defer func() { close(stop); <-done }()
	groups, err := Profile()
	if err != nil {
		t.Fatal(err)
	}
	mine := Matching(groups, map[string]string{"goroutines.test": "parked"})
	if Count(mine) != 1 {
		t.Fatalf("%d goroutines labelled parked, want 1: %+v", Count(mine), mine)
	}
	found := false
	for _, f := range mine[0].Stack {
		found = found || strings.Contains(f.Func, "TestProfile")
	}
	if !found {
		t.Errorf("the parked goroutine's stack does not show TestProfile: %v", mine[0].Stack)
	}
}
