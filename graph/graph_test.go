package graph_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/arborgo/arbor/graph"
	"github.com/arborgo/arbor/spec"
)

// goldenSpecs returns the specs of the golden cases, by case: the root
// module's and the cluster module's (cluster/golden).
func goldenSpecs(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "golden", "*", "spec.arbor.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden specs: %v", err)
	}
	cluster, err := filepath.Glob(filepath.Join("..", "cluster", "golden", "*", "spec.arbor.yaml"))
	if err != nil || len(cluster) == 0 {
		t.Fatalf("no golden specs of the cluster: %v", err)
	}
	paths = append(paths, cluster...)
	out := map[string][]byte{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))] = src
	}
	return out
}

// The statements a drawing may hold, one per line. Labels are quoted and
// hold no quote; node names are the package's own (app1, sup2_c3, ...).
var (
	mermaidID    = `(?:(?:app|sup)[0-9]+(?:_c[0-9]+|_template)?|cluster)`
	mermaidLabel = `"[^"]*"`
	mermaidLine  = regexp.MustCompile(`^(?:flowchart TD` +
		`|    (` + mermaidID + `)(?:\(\[` + mermaidLabel + `\]\)|\[\[` + mermaidLabel + `\]\]|\{\{` + mermaidLabel + `\}\}|\[/` + mermaidLabel + `/\]|\[\(` + mermaidLabel + `\)\]|\[` + mermaidLabel + `\]):::[a-z]+` +
		`|    (` + mermaidID + `) (?:-->|==>|-\.->)(?:\|[a-z0-9 -]+\|)? (` + mermaidID + `)` +
		`|    classDef [a-z]+ [a-z:#0-9, -]+)$`)
	dotID   = mermaidID
	dotText = `"(?:[^"\\]|\\.)*"`
	dotLine = regexp.MustCompile(`^(?:digraph arbor \{|\}|\trankdir=TB;|\t(?:node|edge) \[[^\]]*\];` +
		`|\t(` + dotID + `) \[label=` + dotText + `(?:, [a-z]+=(?:[a-z0-9]+|` + dotText + `))*\];` +
		`|\t(` + dotID + `) -> (` + dotID + `)(?: \[(?:label=` + dotText + `(?:, )?)?(?:penwidth=2|style=dashed)?\])?;)$`)
)

// checkSyntax checks that every line of a drawing is one of the statements
// the package writes, that no node is declared twice and that every edge
// joins declared nodes.
func checkSyntax(t *testing.T, what string, out []byte, line *regexp.Regexp) {
	t.Helper()
	declared := map[string]bool{}
	var edges [][2]string
	for i, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s: line %d is not a statement of the drawing: %q", what, i+1, l)
		}
		if m[1] != "" {
			if declared[m[1]] {
				t.Errorf("%s: node %s declared twice", what, m[1])
			}
			declared[m[1]] = true
		}
		if m[2] != "" {
			edges = append(edges, [2]string{m[2], m[3]})
		}
	}
	for _, e := range edges {
		if !declared[e[0]] || !declared[e[1]] {
			t.Errorf("%s: edge %s -> %s joins an undeclared node", what, e[0], e[1])
		}
	}
}

func draw(t *testing.T, src []byte, f graph.Format) []byte {
	t.Helper()
	s, err := spec.Parse("spec.arbor.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := graph.Draw(s, f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGoldenSyntax(t *testing.T) {
	for name, src := range goldenSpecs(t) {
		if _, err := spec.Parse("spec.arbor.yaml", src); err != nil {
			continue
		}
		checkSyntax(t, name+" mermaid", draw(t, src, graph.Mermaid), mermaidLine)
		checkSyntax(t, name+" dot", draw(t, src, graph.DOT), dotLine)
	}
}

// hostile has a registry key that tries to close the label and add nodes,
// a click handler and HTML, in both formats.
const hostile = `version: 1
registries:
  r: {}
supervisors:
  top:
    children:
      - id: a
        start: NewA
        name: {registry: r, key: "x\"]):::worker\n    click sup1 call alert()\n    evil[\"<img src=x onerror=alert(1)>#amp; ` + "`" + `|\u202e\u200b\\\" ] -> evil; }"}
`

func TestHostileText(t *testing.T) {
	// Every line being a statement of the drawing, the key stayed inside
	// its label; it must also carry no markup and no invisible character.
	m := draw(t, []byte(hostile), graph.Mermaid)
	checkSyntax(t, "mermaid", m, mermaidLine)
	for _, l := range strings.Split(string(m), "\n") {
		if strings.Contains(l, ":::") && strings.ContainsAny(strings.ReplaceAll(l, "<br/>", ""), "<>&`|\u202e\u200b") {
			t.Errorf("mermaid label is not escaped: %s", l)
		}
	}
	d := draw(t, []byte(hostile), graph.DOT)
	checkSyntax(t, "dot", d, dotLine)
	if bytes.ContainsAny(d, "\u202e\u200b") {
		t.Errorf("dot output holds invisible characters:\n%s", d)
	}
}

func TestDeterministic(t *testing.T) {
	for name, src := range goldenSpecs(t) {
		if _, err := spec.Parse("spec.arbor.yaml", src); err != nil {
			continue
		}
		for _, f := range graph.Formats() {
			if a, b := draw(t, src, f), draw(t, src, f); !bytes.Equal(a, b) {
				t.Errorf("%s: two %s drawings differ", name, f)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	s, err := spec.Parse("x.arbor.yaml", []byte("version: 1\nsupervisors: {a: {}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Draw(s, "svg"); err == nil || !strings.Contains(err.Error(), `unknown format "svg"; allowed: mermaid, dot`) {
		t.Errorf("Draw(svg) = %v", err)
	}
}

// TestGraphviz renders every golden drawing with Graphviz's dot when it is
// installed (apt-get install graphviz), and is skipped when it is not.
func TestGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz's dot is not installed")
	}
	for name, src := range goldenSpecs(t) {
		if _, err := spec.Parse("spec.arbor.yaml", src); err != nil {
			continue
		}
		cmd := exec.Command(dot, "-Tsvg", "-o", os.DevNull)
		cmd.Stdin = bytes.NewReader(draw(t, src, graph.DOT))
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("%s: dot: %v\n%s", name, err, out)
		}
	}
	cmd := exec.Command(dot, "-Tsvg", "-o", os.DevNull)
	cmd.Stdin = bytes.NewReader(draw(t, []byte(hostile), graph.DOT))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("hostile: dot: %v\n%s", err, out)
	}
}

// FuzzDraw checks that whatever a valid spec holds, both drawings consist of
// the statements the package writes only: no spec text can add a node, an
// edge or a directive.
func FuzzDraw(f *testing.F) {
	for _, src := range goldenSpecs(f) {
		f.Add(src)
	}
	f.Add([]byte(hostile))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Parse("fuzz.arbor.yaml", src)
		if err != nil {
			return
		}
		for _, tc := range []struct {
			f    graph.Format
			line *regexp.Regexp
		}{{graph.Mermaid, mermaidLine}, {graph.DOT, dotLine}} {
			out, err := graph.Draw(s, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			checkSyntax(t, string(tc.f), out, tc.line)
		}
	})
}

func ExampleDraw() {
	s, err := spec.Parse("tree.arbor.yaml", []byte(`
version: 1
supervisors:
  tree:
    strategy: one_for_all
    children:
      - {id: db, start: NewDB, shutdown: 10s}
      - {id: web, start: NewWeb, args: [{ref: db}], restart: transient}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := graph.Draw(s, graph.Mermaid)
	fmt.Print(string(out[:bytes.Index(out, []byte("    classDef"))]))
	// Output:
	// flowchart TD
	//     sup1[["supervisor tree<br/>one_for_all<br/>max_restarts 3, max_seconds 5"]]:::supervisor
	//     sup1_c1["db<br/>start NewDB<br/>restart permanent, shutdown 10s"]:::worker
	//     sup1_c2["web<br/>start NewWeb<br/>ref db<br/>restart transient, shutdown 5s"]:::worker
	//     sup1 -->|1| sup1_c1
	//     sup1 -->|2| sup1_c2
}
