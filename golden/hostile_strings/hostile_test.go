package hostile_strings

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/arborgo/arbor/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExactLiterals starts the tree and checks that every child got its
// string exactly as the spec wrote it.
func TestExactLiterals(t *testing.T) {
	want := map[string]string{
		"quotes":     "\"); panic(\"injected\"); //",
		"backtick":   "`; os.Exit(1); `",
		"comment":    "*/ func init() { panic(1) } /*",
		"newlines":   "line\nbreak\r\u2028\u2029",
		"bidi":       "\u202eevil\u202c \u2066isolate\u2069",
		"zero_width": "a\u200bb\u200dc\ufeffd",
		"homoglyph":  "\u0440\u0430\u0443\u0440\u0430l",
		"controls":   "\x00\a\x1b[31m\x7f",
		"func":       "func",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deps := NewDeps()
	sup, err := NewHostileSupervisor(ctx, deps)
	if err != nil {
		t.Fatalf("NewHostileSupervisor: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- sup.Serve(ctx) }()

	children, err := sup.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range children {
		w, ok := want[c.ID]
		if !ok {
			continue
		}
		delete(want, c.ID)
		echo, ok := runtime.ServiceOf[*Echo](c.Handle)
		if !ok {
			t.Errorf("child %q runs no *Echo", c.ID)
			continue
		}
		if echo.s != w {
			t.Errorf("child %q got %+q, want %+q", c.ID, echo.s, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("children missing: %v", want)
	}
	if _, ok := deps.Names.Lookup("\u202e\"); }\nfunc init() {"); !ok {
		t.Error("the child named by the hostile key is not registered under it")
	}
	cancel()
	if err := <-served; err != nil && !runtime.IsShutdown(err) {
		t.Errorf("Serve returned %v", err)
	}
}
