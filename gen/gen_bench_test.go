package gen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

// bigSpec returns a spec with one supervisor of n children; with refs, each
// child after the first takes a ref to the one before it, so that every
// child needs a Ref variable too.
func bigSpec(n int, refs bool) []byte {
	var b strings.Builder
	b.WriteString("version: 1\npackage: big\nsupervisors:\n  big:\n    strategy: rest_for_one\n    children:\n")
	for i := 0; i < n; i++ {
		switch {
		case refs && i > 0:
			fmt.Fprintf(&b, "      - {id: c%d, start: NewWorker, args: [{ref: c%d}, %d, \"name %d\"]}\n", i, i-1, i, i)
		default:
			fmt.Fprintf(&b, "      - {id: c%d, start: NewWorker, args: [%d, \"name %d\"]}\n", i, i, i)
		}
	}
	return []byte(b.String())
}

// The performance goal: parse and generate a spec of 10,000 children in well
// under a second, in time linear in its size (compare 1000 and 10000).
func benchmarkParse(b *testing.B, n int) {
	src := bigSpec(n, false)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := spec.Parse("big.arbor.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkGenerate(b *testing.B, n int, refs bool) {
	s, err := spec.Parse("big.arbor.yaml", bigSpec(n, refs))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := gen.Generate(s, gen.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse1000(b *testing.B)         { benchmarkParse(b, 1000) }
func BenchmarkParse10000(b *testing.B)        { benchmarkParse(b, 10000) }
func BenchmarkGenerate1000(b *testing.B)      { benchmarkGenerate(b, 1000, false) }
func BenchmarkGenerate10000(b *testing.B)     { benchmarkGenerate(b, 10000, false) }
func BenchmarkGenerate10000Refs(b *testing.B) { benchmarkGenerate(b, 10000, true) }
func BenchmarkValidate10000(b *testing.B) {
	s, err := spec.Parse("big.arbor.yaml", bigSpec(10000, true))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := spec.Validate(s); err != nil {
			b.Fatal(err)
		}
	}
}
