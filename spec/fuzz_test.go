package spec_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/arborgo/arbor/spec"
)

// seeds are the spec files of the golden cases, and a few more: the seed
// corpus of the fuzz tests, which runs in every go test.
func seeds(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "golden", "*", "spec.arbor.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	if len(paths) == 0 {
		f.Fatal("no golden specs found for the seed corpus")
	}
	var out [][]byte
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, src)
	}
	for _, s := range []string{
		"", "\x00", "{", "- a", "!!binary x", "&a [*a]", "version: 1\n---\n", "<<: *x",
		"version: 1\nsupervisors: {a: {children: [{id: a, start: A, args: [&x [*x]]}]}}",
		"version: 1\nsupervisors: {a: &m {<<: *m}}",
		"version: 0x1\nsupervisors:\n  a:\n    children: [{id: a, start: a.B}]\n",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzParse checks that Parse never panics, that every error has a position
// in the file and a lowercase message, that errors come sorted, and that a
// spec Parse accepts passes Validate.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const name = "fuzz.arbor.yaml"
		s, err := spec.Parse(name, src)
		if err == nil {
			if s == nil {
				t.Fatal("Parse returned neither a spec nor an error")
			}
			if err := spec.Validate(s); err != nil {
				t.Fatalf("a parsed spec does not validate: %v", err)
			}
			return
		}
		if s != nil {
			t.Fatal("Parse returned a spec with an error")
		}
		if !errors.Is(err, spec.ErrInvalid) {
			t.Fatalf("error %v is not ErrInvalid", err)
		}
		var list spec.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T is not a non-empty ErrorList", err)
		}
		for _, e := range list {
			if e.Pos.File != name || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Errorf("error without a position: %q", e.Error())
			}
			if r, _ := utf8.DecodeRuneInString(e.Msg); e.Msg == "" || unicode.IsUpper(r) {
				t.Errorf("message is empty or not lowercase: %q", e.Msg)
			}
		}
		if !slices.IsSortedFunc(list, func(a, b *spec.Error) int {
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line - b.Pos.Line
			}
			return a.Pos.Col - b.Pos.Col
		}) {
			t.Errorf("errors are not sorted:\n%v", err)
		}
	})
}
