package gen

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/arborgo/arbor/spec"
)

// RuntimePath is the import path of the runtime that generated code calls.
const RuntimePath = "github.com/arborgo/arbor/runtime"

// Names of the parameters and locals generated functions declare.
const (
	ctxName  = "ctx"
	depsName = "deps"
	recvName = "s"
	supName  = "d"
	errName  = "err"
	// The service a listener's start returned, in its start function.
	svcName      = "svc"
	listenerName = "listener"
)

// namer chooses the identifiers of a generated file that depend on the spec:
// the local variables holding refs and the names of imported packages, so
// that no one of them hides another or a name the file uses.
type namer struct {
	taken   map[string]bool        // names an import must not take
	refVars map[*spec.Child]string // child -> its Ref variable
	// childrenVar is the local variable of a supervisor's spec function
	// that holds its children.
	childrenVar string
	imports     map[string]string // import path -> package name
	order       []string          // import paths in naming order
}

func newNamer(s *spec.Spec) *namer {
	n := &namer{taken: map[string]bool{}, refVars: map[*spec.Child]string{},
		imports: map[string]string{}}
	for _, name := range []string{ctxName, depsName, recvName, supName, errName, svcName, listenerName} {
		n.taken[name] = true
	}
	// Everything the file declares or refers to unqualified.
	locals := map[string]bool{}
	useFunc := func(f spec.Func) {
		if f.Path == "" {
			locals[f.Name] = true
		} else {
			n.addImport(f.Path)
		}
	}
	var useType func(t *spec.TypeExpr)
	useType = func(t *spec.TypeExpr) {
		if t == nil {
			return
		}
		if t.Kind == spec.NamedType {
			if t.Path == "" {
				locals[t.Name] = true
			} else {
				n.addImport(t.Path)
			}
		}
		useType(t.Key)
		useType(t.Elem)
	}
	for _, sup := range s.Supervisors {
		camel := spec.CamelCase(sup.Name)
		for _, id := range []string{camel + "Supervisor", camel + "SupervisorSpec", "New" + camel + "Supervisor"} {
			locals[id] = true
		}
		if !sup.Dynamic.Val {
			locals[spec.ChildTable(sup.Name)] = true
		}
		for _, c := range sup.Children {
			useFunc(c.Start.Val)
			locals[spec.ChildFunc(sup.Name, c.ID.Val)] = true
		}
		if t := sup.Template; t != nil {
			if _, _, sprintf := idFormat(t); sprintf {
				n.addImport("fmt")
			}
			useFunc(t.Start.Val)
			for _, x := range t.ExtraArgs {
				n.taken[x.Name] = true
				useType(x.Type)
			}
		}
	}
	for _, app := range s.Applications {
		locals[spec.CamelCase(app.Name)+"Application"] = true
		useFunc(app.PrepStop.Val)
		useFunc(app.Stop.Val)
	}
	for _, d := range s.Deps {
		// The parameters of NewDeps.
		n.taken[d.Name] = true
		useType(d.Type.Val)
	}
	for _, r := range s.Registries {
		useType(r.Key.Val)
		useType(r.Value.Val)
		useType(r.PubSub.Val)
	}
	for _, id := range []string{"Deps", "NewDeps", "Applications", "Run", "StartApplications"} {
		locals[id] = true
	}
	if s.Cluster != nil {
		n.addImport(ClusterPath)
		locals["NewNode"] = true
		n.taken[nodeName], n.taken[cfgName] = true, true
		for _, sup := range s.Supervisors {
			if sup.Cluster {
				locals[spec.ClusterArgs(sup.Name)] = true
				useType(sup.Key.Val)
			}
		}
		for _, app := range s.Applications {
			if app.Distributed != nil {
				useFunc(app.Distributed.Handoff.Val)
			}
		}
	}
	for name := range locals {
		n.taken[name] = true
	}
	n.childrenVar = "children"
	for i := 1; locals[n.childrenVar]; i++ {
		n.childrenVar = "children" + strconv.Itoa(i)
	}
	n.taken[n.childrenVar] = true
	// Ref variables: the child's id and "Ref", which no keyword, predeclared
	// or generated identifier ends with; bumped past a function of the
	// package with that name. Ids are unique, so the names are too.
	for _, sup := range s.Supervisors {
		byID := make(map[string]*spec.Child, len(sup.Children))
		for _, c := range sup.Children {
			if _, ok := byID[c.ID.Val]; !ok {
				byID[c.ID.Val] = c
			}
		}
		for _, c := range sup.Children {
			for _, a := range c.Args {
				target := byID[a.Name]
				if a.Kind != spec.RefArg || target == nil || n.refVars[target] != "" {
					continue
				}
				base := target.ID.Val + "Ref"
				name := base
				for i := 1; locals[name] || name == n.childrenVar; i++ {
					name = base + strconv.Itoa(i)
				}
				n.refVars[target] = name
				n.taken[name] = true
			}
		}
	}
	return n
}

func (n *namer) addImport(path string) {
	if _, ok := n.imports[path]; !ok {
		n.imports[path] = ""
		n.order = append(n.order, path)
	}
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]`)

// guessName guesses the package name of an import path as jennifer does:
// its last element, lower case, letters and digits only.
func guessName(path string) string {
	name := path[strings.LastIndexByte(path, '/')+1:]
	name = nonAlnum.ReplaceAllString(strings.ToLower(name), "")
	name = strings.TrimLeft(name, "0123456789")
	if name == "" {
		name = "pkg"
	}
	return name
}

// nameImports gives every import path a package name that no other import
// and no identifier of the file uses: the runtime first, then context and
// time, then the spec's own paths in sorted order.
func (n *namer) nameImports() {
	rest := slices.Clone(n.order)
	slices.Sort(rest)
	paths := []string{RuntimePath, "context", "time"}
	for _, p := range rest {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	n.order = paths
	for _, p := range paths {
		base := guessName(p)
		name := base
		for i := 1; n.taken[name] || spec.IsKeyword(name) || spec.IsPredeclared(name); i++ {
			name = base + strconv.Itoa(i)
		}
		n.taken[name] = true
		n.imports[p] = name
	}
}
