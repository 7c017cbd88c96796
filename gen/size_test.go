package gen_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/arborgo/arbor/gen"
	"github.com/arborgo/arbor/spec"
)

// shapes are specs of n children, supervisors or applications, in the
// shapes the compiler must handle in time linear in their size (bench/
// measures the builds).
var shapes = map[string]func(n int) string{
	"wide": func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\nregistries: {names: {}}\nsupervisors:\n  top:\n    auto_shutdown: any_significant\n    children:\n")
		for i := range n {
			fmt.Fprintf(&b, "      - {id: c%d, start: NewW, args: [%d, \"s\", 1.5, true, null, {duration: 1s}, {registry: names}], shutdown: %d, "+
				"restart: transient, significant: true, backoff: {min: 1ms, max: 1s, jitter: 0.1}, name: {registry: names, key: k%d}}\n", i, i, i, i)
		}
		return b.String()
	},
	"chain": func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\nsupervisors:\n")
		for i := range n {
			if i == n-1 {
				fmt.Fprintf(&b, "  s%d:\n    children: [{id: leaf, start: NewW}]\n", i)
			} else {
				fmt.Fprintf(&b, "  s%d:\n    children: [{id: next, supervisor: s%d}]\n", i, i+1)
			}
		}
		return b.String()
	},
	"many supervisors": func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\nsupervisors:\n  top:\n    children:\n")
		for i := range n {
			fmt.Fprintf(&b, "      - {id: c%d, supervisor: s%d}\n", i, i)
		}
		for i := range n {
			fmt.Fprintf(&b, "  s%d:\n    dynamic: true\n    template: {start: NewW, args: [%d], extra_args: [name string]}\n", i, i)
		}
		return b.String()
	},
	"applications": func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\nsupervisors:\n")
		for i := range n {
			fmt.Fprintf(&b, "  s%d:\n    children: [{id: w, start: NewW}]\n", i)
		}
		b.WriteString("applications:\n")
		for i := range n {
			deps := ""
			if i > 0 {
				deps = fmt.Sprintf(", depends_on: [a%d]", i-1)
			}
			fmt.Fprintf(&b, "  a%d: {supervisor: s%d, stop: Stop%s}\n", i, i, deps)
		}
		return b.String()
	},
}

// embedding counts the struct types of src with an embedded field: the
// compiler writes, for each, a wrapper of every method the field brings.
func embedding(t *testing.T, src []byte) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		if st, ok := node.(*ast.StructType); ok {
			for _, field := range st.Fields.List {
				if len(field.Names) == 0 {
					n++
					break
				}
			}
		}
		return true
	})
	return n
}

// largestFunc returns the size, in syntax nodes, of the largest function of
// src, and checks that package-level variables hold constant data.
func largestFunc(t *testing.T, src []byte) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			n := 0
			ast.Inspect(d, func(ast.Node) bool { n++; return true })
			largest = max(largest, n)
		case *ast.GenDecl:
			ast.Inspect(d, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					// Only conversions, which are constant.
					if sel, ok := n.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "ShutdownSpec" {
						t.Errorf("a package-level variable calls %s: not constant data", fmt.Sprint(n.Fun))
					}
				case *ast.FuncLit:
					t.Error("a package-level variable holds a function literal")
				}
				return true
			})
		}
	}
	return largest
}

// TestGeneratedFunctionsStaySmall checks the layout that keeps go build
// linear: however many children, supervisors or applications a spec has, no
// generated function grows with their number, the tables of children are
// constant data, and only a dynamic supervisor with a template (for its
// typed StartChild) has a struct type embedding the runtime's handle. One
// function holding every child made the compiler quadratic in the number of
// children; a struct type per supervisor cost it a wrapper per method of
// the handle.
func TestGeneratedFunctionsStaySmall(t *testing.T) {
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			var sizes []int
			for _, n := range []int{20, 400} {
				s, err := spec.Parse("x.arbor.yaml", []byte(shape(n)))
				if err != nil {
					t.Fatal(err)
				}
				out, err := gen.Generate(s, gen.Options{Package: "p"})
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, largestFunc(t, out))
				templates := 0
				for _, sup := range s.Supervisors {
					if sup.Template != nil {
						templates++
					}
				}
				if got := embedding(t, out); got != templates {
					t.Errorf("%d struct types embed a field for %d supervisors with a template", got, templates)
				}
			}
			if sizes[1] != sizes[0] {
				t.Errorf("the largest function has %d syntax nodes for 20, %d for 400: it grows with the spec", sizes[0], sizes[1])
			}
		})
	}
}
