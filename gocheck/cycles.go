package gocheck

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"

	"github.com/arborgo/arbor/spec"
)

// Generated code keeps its tables of children and of applications in
// package-level variables, whose initial values refer to the start
// functions. Go refuses a variable whose initialization refers back to
// itself: a start function that refers, through any chain of calls in its
// package, to the generated code that starts it (its supervisor's New or
// Spec function, Run, Applications) closes such a cycle. checkCycles finds
// those chains and reports them at the child they start from.

// graph is what refers to what among the package-level names of the
// package and of the generated file.
type graph map[string][]string

func (g graph) edge(from, to string) { g[from] = append(g[from], to) }

// checkCycles reports each start function that leads back to the table
// that holds it.
func (c *checker) checkCycles() {
	g := graph{}
	c.userEdges(g)
	var tables []string         // in the order of the spec
	what := map[string]string{} // table -> what it is, for messages
	first := map[string]*spec.Child{}
	local := func(f spec.Func) string {
		if f.Path == "" {
			return f.Name
		}
		return ""
	}
	for _, sup := range c.spec.Supervisors {
		camel := spec.CamelCase(sup.Name)
		newFn, specFn := "New"+camel+"Supervisor", camel+"SupervisorSpec"
		g.edge(newFn, specFn)
		if sup.Dynamic.Val {
			continue
		}
		table := spec.ChildTable(sup.Name)
		tables = append(tables, table)
		what[table] = fmt.Sprintf("the table of children of supervisor %q", sup.Name)
		g.edge(specFn, table)
		for _, ch := range sup.Children {
			target := local(ch.Start.Val)
			if ch.Supervisor.Val != "" {
				target = "New" + spec.CamelCase(ch.Supervisor.Val) + "Supervisor"
			}
			if target == "" {
				continue
			}
			fn := spec.ChildFunc(sup.Name, ch.ID.Val)
			g.edge(table, fn)
			g.edge(fn, target)
			if first[fn] == nil {
				first[fn] = ch
			}
		}
	}
	if len(c.spec.Applications) > 0 {
		tables = append(tables, spec.AppTable)
		what[spec.AppTable] = "the table of applications"
		for _, name := range []string{"Run", "StartApplications"} {
			g.edge(name, "Applications")
		}
		g.edge("Applications", spec.AppTable)
		for _, app := range c.spec.Applications {
			fn := spec.CamelCase(app.Name) + "Application"
			g.edge(spec.AppTable, fn)
			g.edge(fn, "New"+spec.CamelCase(app.Supervisor.Val)+"Supervisor")
			for _, f := range []spec.Func{app.PrepStop.Val, app.Stop.Val} {
				if n := local(f); n != "" {
					g.edge(fn, n)
				}
			}
		}
	}
	onCycle := map[string]bool{} // tables on a cycle reported already
	for _, table := range tables {
		if onCycle[table] {
			continue
		}
		path := g.cycle(table)
		if path == nil {
			continue
		}
		for _, n := range path {
			onCycle[n] = true
		}
		// path[0] is the table, path[1] the child's function or an
		// application's.
		p, who := c.spec.Pos, path[1]
		if ch := first[path[1]]; ch != nil {
			p, who = at(ch.Start.Pos, ch.Pos), fmt.Sprintf("child %q", ch.ID.Val)
			if ch.Supervisor.Val != "" {
				p = at(ch.Supervisor.Pos, ch.Pos)
			}
		}
		c.add(p, "%s leads back to %s, which starts it: %s; go refuses such an initialization cycle: give the start function what it needs as an argument rather than refer to the generated code",
			who, what[table], strings.Join(path, " -> "))
	}
}

// cycle returns a path from start back to start, or nil.
func (g graph) cycle(start string) []string {
	seen := map[string]bool{}
	var path []string
	var visit func(n string) bool
	visit = func(n string) bool {
		path = append(path, n)
		for _, next := range g[n] {
			if next == start {
				path = append(path, next)
				return true
			}
			if !seen[next] {
				seen[next] = true
				if visit(next) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if visit(start) {
		return path
	}
	return nil
}

// userEdges adds what each function, method and variable of the package
// refers to: the package's own names, and the generated names, which are
// undeclared in the check.
func (c *checker) userEdges(g graph) {
	generated := map[string]bool{}
	for _, d := range declarations(c.spec) {
		generated[d.name] = true
	}
	scope := c.l.pkg.Scope()
	refer := func(from string, root ast.Node) {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if sel, ok := c.l.info.Selections[n]; ok {
					if m, ok := sel.Obj().(*types.Func); ok && m.Pkg() == c.l.pkg {
						g.edge(from, methodName(m))
					}
					ast.Inspect(n.X, func(x ast.Node) bool { return referIdent(c, g, from, x, scope, generated) })
					return false
				}
			case *ast.Ident:
				return referIdent(c, g, from, n, scope, generated)
			}
			return true
		})
	}
	for _, f := range c.l.files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if obj, ok := c.l.info.Defs[d.Name].(*types.Func); ok && d.Recv != nil {
					name = methodName(obj)
				}
				if d.Body != nil {
					refer(name, d.Body)
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok {
						for _, id := range vs.Names {
							for _, v := range vs.Values {
								refer(id.Name, v)
							}
						}
					}
				}
			}
		}
	}
}

// referIdent adds the edge from -> id when id names a package-level object
// or a generated name.
func referIdent(c *checker, g graph, from string, n ast.Node, scope *types.Scope, generated map[string]bool) bool {
	id, ok := n.(*ast.Ident)
	if !ok {
		return true
	}
	if obj := c.l.info.Uses[id]; obj != nil {
		if obj.Parent() == scope {
			g.edge(from, obj.Name())
		}
		return true
	}
	if generated[id.Name] && c.l.info.Defs[id] == nil {
		g.edge(from, id.Name)
	}
	return true
}

// methodName names a method as a node of the graph: "T.M".
func methodName(m *types.Func) string {
	recv := m.Type().(*types.Signature).Recv().Type()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	if named, ok := recv.(*types.Named); ok {
		return named.Obj().Name() + "." + m.Name()
	}
	return m.Name()
}
