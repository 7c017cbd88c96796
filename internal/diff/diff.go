// Package diff compares two texts line by line and renders the difference
// as a unified diff, the format of "diff -u" that patch and git apply read.
//
// The edit script is a shortest one (Myers' O(ND) algorithm) when the texts
// differ in at most a few thousand lines. Beyond that, the texts are cut at
// lines that occur once in each (as patience diff does) and the pieces are
// compared again; a piece with no such line becomes one replacement. The
// result is then not always the shortest, but it is always correct, and the
// time stays near-linear, which matters for generated files of tens of
// thousands of lines.
//
// The package holds no state; its functions are safe for concurrent use.
package diff

import (
	"bytes"
	"fmt"
	"strings"
)

// Context is the number of unchanged lines shown around each change.
const Context = 3

// Unified returns the unified diff that turns old into new: a "--- oldName"
// and a "+++ newName" line, then hunks of changes with Context lines of
// context. It returns "" when old and new are equal. A last line without a
// newline is marked with "\ No newline at end of file", as diff does.
func Unified(oldName, newName string, old, new []byte) string {
	if bytes.Equal(old, new) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	ops := Lines(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	writeHunks(&out, a, b, ops)
	return out.String()
}

// splitLines splits s after each newline; a last line without one is kept.
func splitLines(s []byte) []string {
	if len(s) == 0 {
		return nil
	}
	n := bytes.Count(s, []byte("\n"))
	lines := make([]string, 0, n+1)
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, string(s))
			break
		}
		lines = append(lines, string(s[:i+1]))
		s = s[i+1:]
	}
	return lines
}

// Kind is the kind of an Op.
type Kind uint8

// The kinds of edits.
const (
	Equal  Kind = iota // a line of both texts
	Delete             // a line of the old text only
	Insert             // a line of the new text only
)

// Op is one line of an edit script: for Equal, old line A is new line B;
// for Delete, old line A goes; for Insert, new line B comes. A and B count
// from 0; the one an Op does not use is the position it applies at.
type Op struct {
	Kind Kind
	A, B int
}

// Lines returns an edit script that turns the lines a into the lines b:
// every line of a appears once as Equal or Delete and every line of b once
// as Equal or Insert, in order.
func Lines(a, b []string) []Op {
	// Lines become small integers, so that comparing them is cheap.
	ids := make(map[string]int, len(a)+len(b))
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)
	d := &differ{a: x, b: y, ops: make([]Op, 0, max(len(a), len(b))), work: maxWork}
	d.diff(0, len(x), 0, len(y), 0)
	return d.ops
}

// Limits that keep the work near-linear.
const (
	// maxEdits is the most edits Myers' algorithm looks for in one piece
	// before the piece is cut at unique lines instead. Its time is
	// O((N+M)·maxEdits) and its memory O(maxEdits²).
	maxEdits = 1000
	// maxDepth bounds how often pieces are cut in pieces.
	maxDepth = 32
	// maxWork bounds the steps of Myers' algorithm over all pieces; once
	// they are spent, pieces are only cut at unique lines.
	maxWork = 100_000_000
)

type differ struct {
	a, b []int
	ops  []Op
	work int // steps of Myers' algorithm left
}

func (d *differ) emit(k Kind, i, j int) { d.ops = append(d.ops, Op{k, i, j}) }

// diff appends the edits that turn a[alo:ahi] into b[blo:bhi].
func (d *differ) diff(alo, ahi, blo, bhi, depth int) {
	// The common prefix and suffix are equal lines.
	for alo < ahi && blo < bhi && d.a[alo] == d.b[blo] {
		d.emit(Equal, alo, blo)
		alo, blo = alo+1, blo+1
	}
	var suffix int
	for alo < ahi-suffix && blo < bhi-suffix && d.a[ahi-suffix-1] == d.b[bhi-suffix-1] {
		suffix++
	}
	ahi, bhi = ahi-suffix, bhi-suffix
	defer func() {
		for i := 0; i < suffix; i++ {
			d.emit(Equal, ahi+i, bhi+i)
		}
	}()

	switch {
	case alo == ahi:
		for j := blo; j < bhi; j++ {
			d.emit(Insert, alo, j)
		}
	case blo == bhi:
		for i := alo; i < ahi; i++ {
			d.emit(Delete, i, blo)
		}
	case d.myers(alo, ahi, blo, bhi):
	case depth < maxDepth && d.anchored(alo, ahi, blo, bhi, depth):
	default:
		for i := alo; i < ahi; i++ {
			d.emit(Delete, i, blo)
		}
		for j := blo; j < bhi; j++ {
			d.emit(Insert, ahi, j)
		}
	}
}

// myers appends a shortest edit script for a[alo:ahi] -> b[blo:bhi] and
// reports true, or appends nothing and reports false when that script has
// more than maxEdits edits.
func (d *differ) myers(alo, ahi, blo, bhi int) bool {
	a, b := d.a[alo:ahi], d.b[blo:bhi]
	n, m := len(a), len(b)
	limit := min(maxEdits, n+m)
	off := limit + 1
	v := make([]int, 2*limit+3)
	// trace[e] is v[off-e : off+e+1] as it was before step e: the
	// furthest x on each diagonal k with e-1 edits.
	var trace [][]int
	for e := 0; e <= limit; e++ {
		if d.work < 0 {
			return false
		}
		trace = append(trace, append([]int(nil), v[off-e:off+e+1]...))
		d.work -= e + 1
		for k := -e; k <= e; k += 2 {
			var x int
			if k == -e || k != e && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
				d.work--
			}
			v[off+k] = x
			if x >= n && y >= m {
				d.backtrack(trace, n, m, e, alo, blo)
				return true
			}
		}
	}
	return false
}

// backtrack walks the trace back from (n, m), which step e reached, and
// appends the edits in order.
func (d *differ) backtrack(trace [][]int, n, m, e, alo, blo int) {
	ops := make([]Op, 0, n+m)
	x, y := n, m
	for ; e > 0; e-- {
		prev := trace[e] // before step e; diagonal k is prev[k+e]
		k := x - y
		var pk int
		if k == -e || k != e && prev[k-1+e] < prev[k+1+e] {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := prev[pk+e]
		py := px - pk
		// The snake after the edit: equal lines back to the edit.
		sx, sy := px, py
		if pk == k+1 {
			sy++ // the edit inserted b[py]
		} else {
			sx++ // the edit deleted a[px]
		}
		for x > sx && y > sy {
			x, y = x-1, y-1
			ops = append(ops, Op{Equal, alo + x, blo + y})
		}
		if pk == k+1 {
			ops = append(ops, Op{Insert, alo + px, blo + py})
		} else {
			ops = append(ops, Op{Delete, alo + px, blo + py})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		ops = append(ops, Op{Equal, alo + x, blo + y})
	}
	for i := len(ops) - 1; i >= 0; i-- {
		d.ops = append(d.ops, ops[i])
	}
}

// anchored cuts a[alo:ahi] and b[blo:bhi] at the lines that occur exactly
// once in each, keeping the longest run of them in the same order in both,
// and diffs the pieces between. It reports false, appending nothing, when
// there is no such line.
func (d *differ) anchored(alo, ahi, blo, bhi, depth int) bool {
	type count struct{ a, b, ai, bj int }
	counts := map[int]*count{}
	for i := alo; i < ahi; i++ {
		c := counts[d.a[i]]
		if c == nil {
			c = &count{}
			counts[d.a[i]] = c
		}
		c.a++
		c.ai = i
	}
	for j := blo; j < bhi; j++ {
		if c := counts[d.b[j]]; c != nil {
			c.b++
			c.bj = j
		}
	}
	// The unique common lines, in the order of a, with their place in b.
	var pairs [][2]int
	for i := alo; i < ahi; i++ {
		if c := counts[d.a[i]]; c.a == 1 && c.b == 1 {
			pairs = append(pairs, [2]int{i, c.bj})
		}
	}
	if len(pairs) == 0 {
		return false
	}
	anchors := longestIncreasing(pairs)
	i, j := alo, blo
	for _, p := range anchors {
		d.diff(i, p[0], j, p[1], depth+1)
		d.emit(Equal, p[0], p[1])
		i, j = p[0]+1, p[1]+1
	}
	d.diff(i, ahi, j, bhi, depth+1)
	return true
}

// longestIncreasing returns the longest subsequence of pairs (sorted by
// their first element) whose second elements increase, by patience sorting.
func longestIncreasing(pairs [][2]int) [][2]int {
	var tails []int // tails[l]: index in pairs of the smallest end of a run of length l+1
	prev := make([]int, len(pairs))
	for i, p := range pairs {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if pairs[tails[mid]][1] < p[1] {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo > 0 {
			prev[i] = tails[lo-1]
		} else {
			prev[i] = -1
		}
		if lo == len(tails) {
			tails = append(tails, i)
		} else {
			tails[lo] = i
		}
	}
	out := make([][2]int, len(tails))
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		out[i] = pairs[k]
	}
	return out
}

// writeHunks renders ops as unified hunks.
func writeHunks(out *strings.Builder, a, b []string, ops []Op) {
	for start := 0; start < len(ops); {
		// Find the next change.
		for start < len(ops) && ops[start].Kind == Equal {
			start++
		}
		if start == len(ops) {
			return
		}
		// The hunk runs from Context lines before the change to Context
		// lines after the last change closer than 2*Context+1 lines.
		first := max(0, start-Context)
		end := start
		for {
			for end < len(ops) && ops[end].Kind != Equal {
				end++
			}
			run := end
			for run < len(ops) && ops[run].Kind == Equal && run-end <= 2*Context {
				run++
			}
			if run < len(ops) && ops[run].Kind != Equal && run-end <= 2*Context {
				end = run
				continue
			}
			end = min(end+Context, len(ops))
			break
		}
		writeHunk(out, a, b, ops[first:end])
		start = end
	}
}

func writeHunk(out *strings.Builder, a, b []string, ops []Op) {
	aStart, bStart := ops[0].A, ops[0].B
	var aLen, bLen int
	for _, op := range ops {
		switch op.Kind {
		case Equal:
			aLen++
			bLen++
		case Delete:
			aLen++
		case Insert:
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, op := range ops {
		var line string
		switch op.Kind {
		case Equal:
			out.WriteByte(' ')
			line = a[op.A]
		case Delete:
			out.WriteByte('-')
			line = a[op.A]
		case Insert:
			out.WriteByte('+')
			line = b[op.B]
		}
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange renders the range of a hunk as diff does: "l,n" with l counted
// from 1, "l" when n is 1, and the line before it ("l,0") when n is 0.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
