package diff

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apply applies a unified diff to old, as patch would, failing the test on
// any hunk that does not match.
func apply(t *testing.T, old []byte, patch string) []byte {
	t.Helper()
	src := splitLines(old)
	lines := strings.SplitAfter(patch, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		t.Fatalf("no header:\n%s", patch)
	}
	var out []string
	next := 0 // next line of src to copy
	for i := 2; i < len(lines); {
		var aStart, aLen, bStart, bLen int
		h := lines[i]
		parse := func(r string) (int, int) {
			start, n, ok := strings.Cut(r, ",")
			s, err := strconv.Atoi(start)
			if err != nil {
				t.Fatalf("bad hunk header %q", h)
			}
			if !ok {
				return s, 1
			}
			c, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("bad hunk header %q", h)
			}
			return s, c
		}
		var ar, br string
		if _, err := fmt.Sscanf(h, "@@ -%s +%s @@\n", &ar, &br); err != nil {
			t.Fatalf("bad hunk header %q: %v", h, err)
		}
		aStart, aLen = parse(ar)
		bStart, bLen = parse(br)
		if aLen > 0 {
			aStart-- // to 0-based; a zero-length range names the line before
		}
		if aStart < next {
			t.Fatalf("hunk %q overlaps the previous one", h)
		}
		out = append(out, src[next:aStart]...)
		next = aStart
		_ = bStart
		gotA, gotB := 0, 0
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@ "); i++ {
			l := lines[i]
			body := l[1:]
			noEOL := i+1 < len(lines) && lines[i+1] == "\\ No newline at end of file\n"
			if noEOL {
				body = strings.TrimSuffix(body, "\n")
			}
			switch l[0] {
			case ' ', '-':
				if next >= len(src) || src[next] != body {
					t.Fatalf("hunk %q: line %d is %q, want %q", h, next+1, src[min(next, len(src)-1)], body)
				}
				next++
				gotA++
				if l[0] == ' ' {
					out = append(out, body)
					gotB++
				}
			case '+':
				out = append(out, body)
				gotB++
			default:
				t.Fatalf("bad line %q", l)
			}
			if noEOL {
				i++
			}
		}
		if gotA != aLen || gotB != bLen {
			t.Fatalf("hunk %q has %d old and %d new lines", h, gotA, gotB)
		}
	}
	out = append(out, src[next:]...)
	return []byte(strings.Join(out, ""))
}

// lcs is the length of the longest common subsequence, by dynamic
// programming: the reference for the shortest edit script.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			default:
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func checkOps(t *testing.T, a, b []string, ops []Op) (edits int) {
	t.Helper()
	i, j := 0, 0
	for _, op := range ops {
		switch op.Kind {
		case Equal:
			if op.A != i || op.B != j || a[i] != b[j] {
				t.Fatalf("bad Equal %+v at %d,%d", op, i, j)
			}
			i, j = i+1, j+1
		case Delete:
			if op.A != i {
				t.Fatalf("bad Delete %+v at %d,%d", op, i, j)
			}
			i++
			edits++
		case Insert:
			if op.B != j {
				t.Fatalf("bad Insert %+v at %d,%d", op, i, j)
			}
			j++
			edits++
		}
	}
	if i != len(a) || j != len(b) {
		t.Fatalf("script covers %d of %d and %d of %d lines", i, len(a), j, len(b))
	}
	return edits
}

func randomText(rng *rand.Rand, n, alphabet int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%c\n", 'a'+rng.IntN(alphabet))
	}
	if n > 0 && rng.IntN(4) == 0 {
		return []byte(strings.TrimSuffix(b.String(), "\n"))
	}
	return []byte(b.String())
}

func TestShortestAndCorrect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for iter := 0; iter < 2000; iter++ {
		old := randomText(rng, rng.IntN(30), 1+rng.IntN(6))
		new := randomText(rng, rng.IntN(30), 1+rng.IntN(6))
		a, b := splitLines(old), splitLines(new)
		ops := Lines(a, b)
		if got, want := checkOps(t, a, b, ops), len(a)+len(b)-2*lcs(a, b); got != want {
			t.Fatalf("%q -> %q: %d edits, want %d", old, new, got, want)
		}
		patch := Unified("a", "b", old, new)
		if (patch == "") != (string(old) == string(new)) {
			t.Fatalf("%q -> %q: patch %q", old, new, patch)
		}
		if patch == "" {
			continue
		}
		if got := apply(t, old, patch); string(got) != string(new) {
			t.Fatalf("%q -> %q: the patch gives %q:\n%s", old, new, got, patch)
		}
	}
}

func TestUnifiedFormat(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	new := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn"
	want := `--- old
+++ new
@@ -1,7 +1,7 @@
 a
 b
 c
-d
+D
 e
 f
 g
@@ -11,3 +11,4 @@
 k
 l
 m
+n
\ No newline at end of file
`
	if got := Unified("old", "new", []byte(old), []byte(new)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, tc := range []struct{ old, new, want string }{
		{"", "x\n", "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n"},
		{"x\n", "", "--- old\n+++ new\n@@ -1 +0,0 @@\n-x\n"},
		{"x", "x\n", "--- old\n+++ new\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n"},
		{"same\n", "same\n", ""},
	} {
		if got := Unified("old", "new", []byte(tc.old), []byte(tc.new)); got != tc.want {
			t.Errorf("Unified(%q, %q) =\n%s\nwant\n%s", tc.old, tc.new, got, tc.want)
		}
	}
}

// big returns a file like the code generated for a spec of n children,
// each line unique but for the boilerplate.
func big(n int, child func(i int) string) []byte {
	var b strings.Builder
	b.WriteString("package big\n\nfunc Spec() {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t// spec.arbor.yaml:%d:9\n", i+5)
		b.WriteString(child(i))
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// TestLarge diffs generated-size files (10,000 children, 30,000 lines) with
// few and with many changes. Time only has a generous cap, against a hang;
// the speed goal is BenchmarkLarge's.
func TestLarge(t *testing.T) {
	child := func(i int) string { return fmt.Sprintf("\t{ID: \"c%d\", Start: NewWorker, Restart: Permanent,\n", i) }
	base := big(10000, child)
	for _, tc := range []struct {
		name string
		new  []byte
	}{
		{"one line", []byte(strings.Replace(string(base), "package big", "package bigger", 1))},
		{"every child", big(10000, func(i int) string { return strings.Replace(child(i), "Permanent", "Transient", 1) })},
		{"reversed", big(10000, func(i int) string { return child(9999 - i) })},
		{"every other child gone", big(5000, func(i int) string { return child(2 * i) })},
		{"all new", big(12000, func(i int) string { return fmt.Sprintf("\tother %d\n", i) })},
		{"shuffled", big(10000, func(i int) string { return child((i * 7919) % 10000) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan string, 1)
			var alloc uint64
			go func() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				p := Unified("old", "new", base, tc.new)
				runtime.ReadMemStats(&after)
				alloc = after.TotalAlloc - before.TotalAlloc
				done <- p
			}()
			select {
			case p := <-done:
				if got := apply(t, base, p); string(got) != string(tc.new) {
					t.Fatal("the patch does not give the new text")
				}
				if alloc > 512<<20 {
					t.Errorf("Unified allocated %d MB", alloc>>20)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("Unified did not return in 2 minutes")
			}
		})
	}
}

func BenchmarkLarge(b *testing.B) {
	child := func(i int) string { return fmt.Sprintf("\t{ID: \"c%d\", Start: NewWorker, Restart: Permanent,\n", i) }
	base := big(10000, child)
	for _, bc := range []struct {
		name string
		new  []byte
	}{
		{"OneLine", []byte(strings.Replace(string(base), "package big", "package bigger", 1))},
		{"EveryChild", big(10000, func(i int) string { return strings.Replace(child(i), "Permanent", "Transient", 1) })},
		{"Shuffled", big(10000, func(i int) string { return child((i * 7919) % 10000) })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				Unified("old", "new", base, bc.new)
			}
		})
	}
}

// FuzzUnified checks that the diff of any two texts turns the first into the
// second, and is empty only when they are equal.
func FuzzUnified(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\nd"))
	f.Add([]byte(""), []byte("x"))
	f.Add([]byte("x\ny\n"), []byte("y\nx\n"))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		patch := Unified("old", "new", old, new)
		if (patch == "") != (string(old) == string(new)) {
			t.Fatalf("patch %q for %q -> %q", patch, old, new)
		}
		if patch != "" {
			if got := apply(t, old, patch); string(got) != string(new) {
				t.Fatalf("%q -> %q: the patch gives %q:\n%s", old, new, got, patch)
			}
		}
	})
}
