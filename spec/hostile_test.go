package spec_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arborgo/arbor/spec"
)

// Hostile input must be refused, or read, in bounded time and memory. The
// tests measure memory, which does not depend on the machine's load, and give
// time only a generous cap, which a loaded machine cannot break.

// hostileDeadline is the cap on any one Parse of hostile input: a guard
// against a hang, not a timing goal (those are in the benchmarks).
const hostileDeadline = 2 * time.Minute

// parseBounded parses src, failing the test when Parse does not return
// within hostileDeadline. It returns the error and the bytes allocated.
func parseBounded(t *testing.T, src []byte) (error, uint64) {
	t.Helper()
	type result struct {
		err   error
		alloc uint64
	}
	done := make(chan result, 1)
	go func() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := spec.Parse("hostile.arbor.yaml", src)
		runtime.ReadMemStats(&after)
		done <- result{err, after.TotalAlloc - before.TotalAlloc}
	}()
	select {
	case r := <-done:
		return r.err, r.alloc
	case <-time.After(hostileDeadline):
		t.Fatalf("Parse of %d bytes did not return within %v", len(src), hostileDeadline)
		return nil, 0
	}
}

const mb = 1 << 20

// wantRefused checks that err is an ErrorList whose first error has a
// position and contains want, and that Parse allocated at most maxAlloc.
func wantRefused(t *testing.T, err error, alloc, maxAlloc uint64, want string) {
	t.Helper()
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("Parse accepted hostile input (err = %v)", err)
	}
	if !strings.Contains(list[0].Msg, want) || !list[0].Pos.IsValid() {
		t.Errorf("first error = %q, want a position and %q", list[0].Error(), want)
	}
	if alloc > maxAlloc {
		t.Errorf("Parse allocated %d MB, want at most %d MB", alloc/mb, maxAlloc/mb)
	}
}

func TestHostileAliasBombs(t *testing.T) {
	laughs := func(levels int, merge bool) []byte {
		var b strings.Builder
		b.WriteString("version: 1\nx-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
		for i := 1; i <= levels; i++ {
			fmt.Fprintf(&b, "x-%d: &a%d [", i, i)
			for j := 0; j < 10; j++ {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "*a%d", i-1)
			}
			b.WriteString("]\n")
		}
		fmt.Fprintf(&b, "supervisors:\n  s:\n    children:\n      - {id: x, start: NewX, args: *a%d}\n", levels)
		if merge {
			// A mapping that merges itself through a list of big aliases.
			fmt.Fprintf(&b, "      - {id: y, <<: [*a%d, *a%d]}\n", levels, levels)
		}
		return []byte(b.String())
	}
	for _, tc := range []struct {
		name string
		src  []byte
	}{
		{"billion laughs", laughs(9, false)},
		{"a hundred levels", laughs(100, false)},
		{"merged", laughs(9, true)},
		{"keys", []byte("version: 1\nx-a: &k [a, a, a, a, a, a, a, a, a, a]\nx-b: &l [*k, *k, *k, *k, *k, *k, *k, *k, *k, *k]\nx-c: &m [*l, *l, *l, *l, *l, *l, *l, *l, *l, *l]\nx-d: &n [*m, *m, *m, *m, *m, *m, *m, *m, *m, *m]\nx-e: &o [*n, *n, *n, *n, *n, *n, *n, *n, *n, *n]\nx-f: &p [*o, *o, *o, *o, *o, *o, *o, *o, *o, *o]\nx-g: &q [*p, *p, *p, *p, *p, *p, *p, *p, *p, *p]\nsupervisors:\n  ? *q\n  : {}\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, alloc := parseBounded(t, tc.src)
			if err == nil {
				t.Fatal("Parse accepted an alias bomb")
			}
			if alloc > 64*mb {
				t.Errorf("Parse allocated %d MB, want at most 64 MB", alloc/mb)
			}
		})
	}
	err, alloc := parseBounded(t, laughs(9, false))
	wantRefused(t, err, alloc, 64*mb, "is this an alias bomb?")
}

func TestHostileSize(t *testing.T) {
	// 10 MB of an otherwise valid spec: refused before the YAML is parsed.
	var b strings.Builder
	b.WriteString("version: 1\nsupervisors:\n  s:\n    children:\n")
	for b.Len() < 10*mb {
		fmt.Fprintf(&b, "      - {id: c%d, start: NewWorker}\n", b.Len())
	}
	err, alloc := parseBounded(t, []byte(b.String()))
	wantRefused(t, err, alloc, mb, "a spec is at most 4194304 bytes")

	// Just under the size, with as many separators as allowed, in the
	// shapes that make the YAML parser build the most nodes per byte.
	for _, tc := range []struct {
		name string
		src  string
	}{
		{"flow mapping of nulls", "{" + strings.Repeat("a,", spec.MaxSeparators-1) + "a}"},
		{"flow list", "[" + strings.Repeat("1,", spec.MaxSeparators-1) + "1]"},
		{"block list", strings.Repeat("- a\n", spec.MaxSeparators/2)},
		{"nested block lists", strings.Repeat(strings.Repeat("- ", 5000)+"a\n", spec.MaxSeparators/5001)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, alloc := parseBounded(t, []byte(tc.src))
			// Measured: about 500 bytes per separator at worst.
			wantRefused(t, err, alloc, 192*mb, "")
		})
	}
	err, alloc = parseBounded(t, []byte("["+strings.Repeat("1,", spec.MaxSeparators)+"1]"))
	wantRefused(t, err, alloc, mb, "more than 250000 yaml separators")
}

func TestHostileNesting(t *testing.T) {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name string
		src  string
		want string
	}{
		{"10000 lists in an argument", "version: 1\nsupervisors:\n  s:\n    children:\n      - {id: x, start: X, args: [" + deep(9990, "[", "]") + "]}\n", "got a list"},
		{"10000 mappings in an argument", "version: 1\nsupervisors:\n  s:\n    children:\n      - {id: x, start: X, args: [" + deep(9990, "{a: ", "}") + "]}\n", ""},
		{"100000 lists", deep(100000, "[", "]"), "max depth"},
		{"10000 mappings as a supervisor", "version: 1\nsupervisors:\n  s: " + deep(9990, "{a: ", "}") + "\n", "unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, alloc := parseBounded(t, []byte(tc.src))
			wantRefused(t, err, alloc, 64*mb, tc.want)
		})
	}
}

// chain returns a valid spec of n supervisors, each running the next one.
func chain(n int, cycle bool) string {
	var b strings.Builder
	b.WriteString("version: 1\nsupervisors:\n")
	for i := 0; i < n; i++ {
		next := i + 1
		if next == n {
			if !cycle {
				fmt.Fprintf(&b, "  s%d: {children: [{id: w, start: NewW}]}\n", i)
				break
			}
			next = 0
		}
		fmt.Fprintf(&b, "  s%d: {children: [{id: c, supervisor: s%d}]}\n", i, next)
	}
	return b.String()
}

func TestHostileDeepTree(t *testing.T) {
	// 10,000 supervisors nested in one another: valid, and read in linear
	// time.
	src := []byte(chain(10000, false))
	if _, err := spec.Parse("deep.arbor.yaml", src); err != nil {
		t.Fatalf("a 10,000-deep tree is invalid: %.300v", err)
	}
	// Closed into a cycle: one error, whose message stays short.
	err, alloc := parseBounded(t, []byte(chain(10000, true)))
	wantRefused(t, err, alloc, 128*mb, "contains itself: s0 -> s1 -> s2 -> s3 -> ... (9992 more) -> s9996")
	if msg := err.Error(); len(msg) > 300 {
		t.Errorf("the cycle's message is %d bytes long", len(msg))
	}
}

func TestHostileUnknownNames(t *testing.T) {
	// Many unknown names among many declared ones: "did you mean" must not
	// make validation quadratic.
	var b strings.Builder
	b.WriteString("version: 1\nsupervisors:\n  top:\n    children:\n")
	const refs = 20000
	for i := 0; i < refs; i++ {
		fmt.Fprintf(&b, "      - {id: c%d, supervisor: sup%05dx}\n", i, i)
	}
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "  sup%05d: {}\n", i)
	}
	err, alloc := parseBounded(t, []byte(b.String()))
	wantRefused(t, err, alloc, 256*mb, "runs the unknown supervisor")
	var list spec.ErrorList
	if errors.As(err, &list) && len(list) != spec.MaxErrors+1 {
		t.Errorf("%d errors, want the first %d and one that says there are more", len(list), spec.MaxErrors)
	}
	if last := list[len(list)-1]; last.Msg != "too many errors; arbor lists the first 1000" {
		t.Errorf("last error = %q", last)
	}
	if !strings.Contains(err.Error(), `did you mean "sup00000"?`) {
		t.Errorf("the first unknown names get no hint:\n%.300s", err)
	}
}

func TestHostileBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1*mb)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"random bytes", string(random), ""},
		{"nul bytes", "version: 1\x00\x00\x00", "character U+0000 is not allowed in yaml"},
		{"control characters", "version: 1\nsupervisors: \x01\x02\x1b[31m\n", "character U+0001 is not allowed in yaml"},
		{"a C1 control", "version: 1\npackage: \u009b31m\n", "character U+009B is not allowed in yaml"},
		{"a noncharacter", "version: 1\npackage: \uffff\n", "character U+FFFF is not allowed in yaml"},
		{"invalid utf-8 in a value", "version: 1\nsupervisors:\n  s\xff\xfe: {}\n", "invalid utf-8 (byte 0xff at offset 27)"},
		{"a lone continuation byte", "\x80", "invalid utf-8"},
		{"a truncated sequence", "version: 1\npackage: \xe2\x82", "invalid utf-8"},
		{"an encoded surrogate", "version: 1\npackage: \xed\xa0\x80", "invalid utf-8"},
		{"utf-16", "\xff\xfev\x00e\x00r\x00", "invalid utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, alloc := parseBounded(t, []byte(tc.src))
			wantRefused(t, err, alloc, 16*mb, tc.want)
		})
	}
	// The position of invalid UTF-8 is its line and column.
	_, err := spec.Parse("x.arbor.yaml", []byte("version: 1\nsupervisors:\n  sé\xff: {}\n"))
	if got := fmt.Sprint(err); !strings.HasPrefix(got, "x.arbor.yaml:3:5: invalid utf-8") {
		t.Errorf("err = %q, want it at 3:5", got)
	}
}

func BenchmarkParseHostile(b *testing.B) {
	for _, bc := range []struct {
		name string
		src  string
	}{
		{"AliasBomb", "version: 1\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nx-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nx-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nx-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nx-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nx-g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nx-h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\nsupervisors: {s: {children: [{id: x, start: X, args: *h}]}}\n"},
		{"TenMegabytes", strings.Repeat("- {id: x}\n", mb)},
		{"MostSeparators", "{" + strings.Repeat("a,", spec.MaxSeparators-1) + "a}"},
		{"DeepCycle", chain(10000, true)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			src := []byte(bc.src)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := spec.Parse("hostile.arbor.yaml", src); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
