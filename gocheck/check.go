package gocheck

import (
	"context"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"math"
	"math/big"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/arborgo/arbor/spec"
)

// Check checks the valid spec s against the Go package that its generated
// file, opts.Output, joins. It returns the mistakes it finds, sorted by
// position, or nil; and, when it could not load the package, an error
// matched by ErrNotChecked that says why, and no mistakes.
func Check(ctx context.Context, s *spec.Spec, opts Options) (spec.ErrorList, error) {
	l, err := load(ctx, importPaths(s), opts)
	if err != nil {
		return nil, err
	}
	c := &checker{spec: s, l: l, opts: opts, services: map[*spec.Child]types.Type{},
		depTypes: map[string]types.Type{}, regTypes: map[string]*registryTypes{}, enc: newEncodings()}
	u, err := c.universe()
	if err != nil {
		return nil, err
	}
	c.run(u)
	if len(c.errs) == 0 {
		return nil, nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool {
		a, b := c.errs[i].Pos, c.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.errs, nil
}

// importPaths lists the packages the spec names.
func importPaths(s *spec.Spec) []string {
	var paths []string
	var typ func(t *spec.TypeExpr)
	typ = func(t *spec.TypeExpr) {
		if t == nil {
			return
		}
		if t.Kind == spec.NamedType && t.Path != "" {
			paths = append(paths, t.Path)
		}
		typ(t.Key)
		typ(t.Elem)
	}
	fn := func(f spec.Func) {
		if f.Path != "" {
			paths = append(paths, f.Path)
		}
	}
	for _, sup := range s.Supervisors {
		for _, c := range sup.Children {
			fn(c.Start.Val)
		}
		if t := sup.Template; t != nil {
			fn(t.Start.Val)
			for _, x := range t.ExtraArgs {
				typ(x.Type)
			}
		}
		typ(sup.Key.Val)
	}
	for _, app := range s.Applications {
		fn(app.PrepStop.Val)
		fn(app.Stop.Val)
		if app.Distributed != nil {
			fn(app.Distributed.Handoff.Val)
		}
	}
	for _, d := range s.Deps {
		typ(d.Type.Val)
	}
	for _, r := range s.Registries {
		typ(r.Key.Val)
		typ(r.Value.Val)
		typ(r.PubSub.Val)
	}
	return paths
}

type checker struct {
	spec *spec.Spec
	l    *loaded
	opts Options
	errs spec.ErrorList
	// services holds the service type of each child whose start function
	// checked out, for the refs to it.
	services map[*spec.Child]types.Type
	// depTypes holds the type of each dependency whose type resolved;
	// regTypes the types of each registry whose types resolved.
	depTypes map[string]types.Type
	regTypes map[string]*registryTypes
	// enc holds the interfaces by which keys and arguments are encoded.
	enc *encodings
}

// registryTypes are the Go types of a registry of the spec.
type registryTypes struct {
	key, value types.Type
	// ptr is the type of the registry itself, a pointer.
	ptr types.Type
}

func (c *checker) add(p spec.Pos, format string, args ...any) {
	c.errs = append(c.errs, &spec.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// at returns p when it is valid, else the fallback.
func at(p, fallback spec.Pos) spec.Pos {
	if p.IsValid() {
		return p
	}
	return fallback
}

// The types generated code gives start functions and takes from them.
type universe struct {
	ctx       types.Type // context.Context
	duration  types.Type // time.Duration
	service   *types.Interface
	unique    types.Type // runtime.UniqueRegistry, generic
	duplicate types.Type // runtime.DuplicateRegistry, generic
	sub       types.Type // runtime.Subscriber, generic
	listener  types.Type // runtime.Listener, generic
	ref       *types.Named
	errorT    types.Type
}

// universe loads the types that the check compares with, or returns why it
// cannot.
func (c *checker) universe() (*universe, error) {
	var pkgs [3]*types.Package
	for i, path := range []string{"context", "time", runtimePath} {
		p, why := c.l.importPkg(path)
		if p == nil {
			return nil, cannot("package %s cannot be loaded: %s", path, why)
		}
		pkgs[i] = p
	}
	ctxPkg, timePkg, rt := pkgs[0], pkgs[1], pkgs[2]
	broken := cannot("package %s does not declare what generated code uses", runtimePath)
	u := &universe{
		ctx:      ctxPkg.Scope().Lookup("Context").Type(),
		duration: timePkg.Scope().Lookup("Duration").Type(),
		errorT:   types.Universe.Lookup("error").Type(),
	}
	lookup := func(name string) types.Type {
		if obj := rt.Scope().Lookup(name); obj != nil {
			return obj.Type()
		}
		return types.Typ[types.Invalid]
	}
	svc, ok := lookup("Service").Underlying().(*types.Interface)
	if !ok {
		return nil, broken
	}
	u.service = svc
	// The registries' types are generic types, or generic aliases of them.
	for _, g := range []struct {
		name string
		t    *types.Type
	}{{"UniqueRegistry", &u.unique}, {"DuplicateRegistry", &u.duplicate}, {"Subscriber", &u.sub}, {"Listener", &u.listener}} {
		t := lookup(g.name)
		_, named := t.(*types.Named)
		_, alias := t.(*types.Alias)
		if !named && !alias {
			return nil, broken
		}
		*g.t = t
	}
	if u.ref, ok = lookup("Ref").(*types.Named); !ok {
		return nil, broken
	}
	return u, nil
}

// instantiate returns the generic type g of the runtime with args, or nil.
func instantiate(g types.Type, args ...types.Type) types.Type {
	t, err := types.Instantiate(nil, g, args, true)
	if err != nil {
		return nil
	}
	return t
}

// resolveDeps resolves the types of the dependencies and registries,
// reporting at the spec's position each that does not exist.
func (c *checker) resolveDeps(u *universe) {
	for _, d := range c.spec.Deps {
		if d.Type.Val == nil {
			continue
		}
		t, why := c.resolveType(d.Type.Val)
		if t == nil {
			c.add(at(d.Type.Pos, d.Pos), "dependency %s has the type %s, %s", d.Name, d.Type.Val, why)
			continue
		}
		c.depTypes[d.Name] = t
	}
	for _, r := range c.spec.Registries {
		rt := &registryTypes{key: types.Typ[types.String], value: types.NewStruct(nil, nil)}
		ok := true
		for _, x := range []struct {
			what string
			v    spec.Value[*spec.TypeExpr]
			t    *types.Type
		}{{"key", r.Key, &rt.key}, {"value", r.Value, &rt.value}, {"pubsub", r.PubSub, &rt.value}} {
			if x.v.Val == nil {
				continue
			}
			t, why := c.resolveType(x.v.Val)
			if t == nil {
				c.add(at(x.v.Pos, r.Pos), "the %s of registry %q has the type %s, %s", x.what, r.Name, x.v.Val, why)
				ok = false
				continue
			}
			*x.t = t
			if x.what == "pubsub" && t != types.Typ[types.Invalid] {
				*x.t = instantiate(u.sub, t)
			}
		}
		if !ok || rt.key == types.Typ[types.Invalid] || rt.value == types.Typ[types.Invalid] || rt.value == nil {
			continue
		}
		if !types.Comparable(rt.key) {
			c.add(at(r.Key.Pos, r.Pos), "the key of registry %q has the type %s, which is not comparable; a registry's keys are map keys", r.Name, c.typeString(rt.key))
			continue
		}
		g := u.unique
		if r.IsDuplicate() {
			g = u.duplicate
		}
		if t := instantiate(g, rt.key, rt.value); t != nil {
			rt.ptr = types.NewPointer(t)
			c.regTypes[r.Name] = rt
		}
	}
}

func (c *checker) run(u *universe) {
	c.checkPackage()
	if !c.checkNames() {
		return
	}
	c.resolveDeps(u)
	for _, sup := range c.spec.Supervisors {
		what := fmt.Sprintf("supervisor %q", sup.Name)
		for _, ch := range sup.Children {
			if ch.Start.Val.IsZero() {
				continue // a nested supervisor, generated
			}
			cw := fmt.Sprintf("child %q", ch.ID.Val)
			if t := c.checkStart(u, ch.Start, ch.Pos, cw, ch.Args, nil, sup); t != nil {
				c.services[ch] = t
			}
		}
		if t := sup.Template; t != nil && sup.Cluster {
			// The key is the first of the extra arguments.
			extra := append([]spec.ExtraArg{c.clusterKey(sup)}, t.ExtraArgs...)
			c.checkStart(u, t.Start, t.Pos, "the template of cluster "+what, t.Args, extra, sup)
			c.checkClusterArgs(sup)
		} else if t != nil {
			c.checkStart(u, t.Start, t.Pos, "the template of "+what, t.Args, t.ExtraArgs, sup)
		}
	}
	for _, sup := range c.spec.Supervisors {
		for _, ch := range sup.Children {
			if ch.Name != nil {
				c.checkName(u, ch)
			}
		}
	}
	c.checkListeners(u)
	for _, app := range c.spec.Applications {
		what := fmt.Sprintf("application %q", app.Name)
		c.checkCallback(u, app.PrepStop, app.PrepStopArgs, app.Pos, "prep_stop", what)
		c.checkCallback(u, app.Stop, app.StopArgs, app.Pos, "stop", what)
		if app.Distributed != nil {
			c.checkHandoff(u, app)
		}
	}
	c.checkCycles()
}

// checkName checks the key and value of the name of child ch against the
// types of its registry.
func (c *checker) checkName(u *universe, ch *spec.Child) {
	n := ch.Name
	rt := c.regTypes[n.Registry.Val]
	if rt == nil {
		return
	}
	owner := fmt.Sprintf("child %q", ch.ID.Val)
	np := at(n.Pos, ch.Pos)
	if n.Key != nil {
		c.checkValue(u, *n.Key, rt.key, fmt.Sprintf("name key %s of %s", n.Key.Literal(), owner),
			fmt.Sprintf("a key of registry %q", n.Registry.Val), np, nil)
	}
	if n.Value != nil {
		c.checkValue(u, *n.Value, rt.value, fmt.Sprintf("name value %s of %s", n.Value.Literal(), owner),
			fmt.Sprintf("a value of registry %q", n.Registry.Val), np, nil)
	}
}

// checkListeners checks that each listener of a registry has a method that
// gives its runtime.Listener: for registry "quotes", QuotesListener().
func (c *checker) checkListeners(u *universe) {
	for _, r := range c.spec.Registries {
		rt := c.regTypes[r.Name]
		if rt == nil {
			continue
		}
		want := instantiate(u.listener, rt.key, rt.value)
		method := spec.CamelCase(r.Name) + "Listener"
		for _, l := range r.Listeners {
			ch, _ := c.spec.ListenerChild(l.Val)
			svc := c.services[ch]
			if ch == nil || svc == nil || want == nil {
				continue // not a child whose start function checked out
			}
			lp := at(l.Pos, r.Pos)
			wantSig := fmt.Sprintf("%s() %s", method, c.typeString(want))
			obj, _, _ := types.LookupFieldOrMethod(svc, true, c.l.pkg, method)
			fn, isFunc := obj.(*types.Func)
			if !isFunc {
				c.add(lp, "listener %s of registry %q starts %s, which has no method %s, by which a listener joins the registry",
					l.Val, r.Name, an(c.typeString(svc)), wantSig)
				continue
			}
			sig := fn.Type().(*types.Signature)
			if sig.Params().Len() != 0 || sig.Results().Len() != 1 || !types.AssignableTo(sig.Results().At(0).Type(), want) {
				c.add(lp, "listener %s of registry %q has the method %s%s%s; want %s", l.Val, r.Name, method, c.params(sig), resultsSuffix(c, sig), wantSig)
			}
		}
	}
}

// checkPackage reports a spec whose package differs from that of the Go
// files beside its generated file.
func (c *checker) checkPackage() {
	if len(c.l.files) > 0 || c.spec.Package.Val == "" {
		return
	}
	names, err := goFiles(c.l.dir, c.opts.Output, c.opts.Env)
	if err != nil || len(names) == 0 {
		return
	}
	c.add(at(c.spec.Package.Pos, c.spec.Pos), "package %s, but the go files of %s (%s) are not of package %s; the generated file must be of theirs",
		c.spec.Package.Val, c.l.dir, strings.Join(names, ", "), c.spec.Package.Val)
}

// checkNames reports a name the generated file declares that the package
// declares already, and a predeclared name the generated code uses that the
// package hides, after which nothing else can be checked: it reports
// whether the rest can.
func (c *checker) checkNames() bool {
	scope := c.l.pkg.Scope()
	for _, d := range declarations(c.spec) {
		if obj := scope.Lookup(d.name); obj != nil {
			c.add(d.pos, "arbor generates %s for %s, and %s declares it too; rename one", d.name, d.by, c.where(obj.Pos()))
		}
	}
	hidden := false
	for _, name := range []string{"error", "nil", "string", "any", "true", "len", "make", "int"} {
		if obj := scope.Lookup(name); obj != nil {
			c.add(c.spec.Pos, "package %s declares %s (%s), which hides go's predeclared %s from the generated code; rename it",
				c.l.pkg.Name(), name, c.where(obj.Pos()), name)
			hidden = true
		}
	}
	return !hidden
}

// where names a position of the package's Go code, relative to its folder.
func (c *checker) where(p token.Pos) string {
	pos := c.l.fset.Position(p)
	if rel, err := filepath.Rel(c.l.dir, pos.Filename); err == nil {
		pos.Filename = rel
	}
	return fmt.Sprintf("%s:%d:%d", pos.Filename, pos.Line, pos.Column)
}

// declaration is a package-level name of the generated file.
type declaration struct {
	name string
	pos  spec.Pos
	by   string
}

// declarations lists the package-level names the file generated from s
// declares, each with the position of what generates it.
func declarations(s *spec.Spec) []declaration {
	var ds []declaration
	add := func(p spec.Pos, by string, names ...string) {
		for _, n := range names {
			ds = append(ds, declaration{n, at(p, s.Pos), by})
		}
	}
	switch {
	case s.Cluster != nil:
		add(s.Cluster.Pos, "the cluster", "Deps", "NewDeps", "NewNode")
	case len(s.Deps) > 0:
		add(s.Deps[0].Pos, "the deps", "Deps", "NewDeps")
	case len(s.Registries) > 0:
		add(s.Registries[0].Pos, "the deps", "Deps", "NewDeps")
	}
	for _, sup := range s.Supervisors {
		by := fmt.Sprintf("supervisor %q", sup.Name)
		camel := spec.CamelCase(sup.Name)
		add(sup.Pos, by, camel+"Supervisor", camel+"SupervisorSpec", "New"+camel+"Supervisor")
		if sup.Cluster {
			add(sup.Pos, by, spec.ClusterArgs(sup.Name))
		}
		if sup.Dynamic.Val {
			continue
		}
		add(sup.Pos, by, spec.ChildTable(sup.Name))
		for _, ch := range sup.Children {
			add(ch.Pos, fmt.Sprintf("child %q of %s", ch.ID.Val, by), spec.ChildFunc(sup.Name, ch.ID.Val))
		}
	}
	for _, app := range s.Applications {
		add(app.Pos, fmt.Sprintf("application %q", app.Name), spec.CamelCase(app.Name)+"Application")
	}
	if len(s.Applications) > 0 {
		add(s.Applications[0].Pos, "the applications", "Applications", "Run", "StartApplications", spec.AppTable)
	}
	return ds
}

// lookupFunc finds the function f, reporting at p why it cannot when it
// cannot. It returns nil for a generic function, which the compiler checks
// with the arguments it infers from.
func (c *checker) lookupFunc(f spec.Value[spec.Func], p spec.Pos, what string) *types.Signature {
	fp := at(f.Pos, p)
	name := f.Val.Name
	var scope *types.Scope
	var inPkg string
	if f.Val.Path == "" {
		scope, inPkg = c.l.pkg.Scope(), "package "+c.l.pkg.Name()
	} else {
		pkg, why := c.l.importPkg(f.Val.Path)
		if pkg == nil {
			c.add(fp, "%s: package %s cannot be loaded: %s", what, f.Val.Path, why)
			return nil
		}
		if rel, err := filepath.Rel(c.l.dir, c.pkgDir(pkg)); err == nil && rel == "." {
			c.add(fp, "%s: %s is the package of the generated file itself; write %s", what, f.Val.Path, name)
			return nil
		}
		scope, inPkg = pkg.Scope(), "package "+f.Val.Path
	}
	obj := scope.Lookup(name)
	if obj == nil {
		hint := ""
		if h := closestFunc(scope, name); h != "" {
			hint = fmt.Sprintf("; did you mean %s?", h)
		}
		c.add(fp, "%s is not declared in %s%s", what, inPkg, hint)
		return nil
	}
	switch obj := obj.(type) {
	case *types.TypeName:
		c.add(fp, "%s is a type, not a function", what)
		return nil
	case *types.Const:
		c.add(fp, "%s is a constant, not a function", what)
		return nil
	case *types.Func, *types.Var:
		sig, ok := obj.Type().Underlying().(*types.Signature)
		if !ok {
			if obj.Type() == types.Typ[types.Invalid] {
				return nil // its declaration has errors, which the compiler reports
			}
			c.add(fp, "%s is a variable of type %s, not a function", what, c.typeString(obj.Type()))
			return nil
		}
		if sig.TypeParams().Len() > 0 {
			return nil
		}
		return sig
	}
	return nil
}

// pkgDir returns the directory of an imported package, from the export
// data's file names, or "".
func (c *checker) pkgDir(p *types.Package) string {
	scope := p.Scope()
	for _, name := range scope.Names() {
		if pos := c.l.fset.Position(scope.Lookup(name).Pos()); pos.Filename != "" {
			return filepath.Dir(pos.Filename)
		}
	}
	return ""
}

// closestFunc returns the function of scope whose name is closest to name,
// when it is close enough to be a typo.
func closestFunc(scope *types.Scope, name string) string {
	var lower []string // DidYouMean compares with candidates as they are
	byLower := map[string]string{}
	for _, n := range scope.Names() {
		if _, ok := scope.Lookup(n).(*types.Func); ok {
			l := strings.ToLower(n)
			if _, dup := byLower[l]; !dup {
				byLower[l] = n
				lower = append(lower, l)
			}
		}
	}
	return byLower[spec.DidYouMean(name, lower)]
}

// an returns s after its indefinite article: "an int", "a string".
func an(s string) string {
	if s != "" && strings.ContainsRune("aeioAEIO", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// typeString renders t as the package's code would write it.
func (c *checker) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == c.l.pkg {
			return ""
		}
		return p.Name()
	})
}

// params renders a signature's parameters as "(ctx, time.Duration, string)".
func (c *checker) params(sig *types.Signature) string {
	var parts []string
	for i := 0; i < sig.Params().Len(); i++ {
		t := sig.Params().At(i).Type()
		s := c.typeString(t)
		if i == sig.Params().Len()-1 && sig.Variadic() {
			s = "..." + c.typeString(t.(*types.Slice).Elem())
		}
		if i == 0 && s == "context.Context" {
			s = "ctx"
		}
		parts = append(parts, s)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (c *checker) results(sig *types.Signature) string {
	var parts []string
	for i := 0; i < sig.Results().Len(); i++ {
		parts = append(parts, c.typeString(sig.Results().At(i).Type()))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// checkStart checks a start function against the arguments the spec passes
// it, and returns its service type when it fits.
func (c *checker) checkStart(u *universe, f spec.Value[spec.Func], p spec.Pos, owner string, args []spec.Arg, extra []spec.ExtraArg, sup *spec.Supervisor) types.Type {
	what := fmt.Sprintf("start %s of %s", f.Val, owner)
	fp := at(f.Pos, p)
	if f.Val.Path == "" && c.isGeneratedNew(f.Val.Name) {
		return nil // generated: the spec's validation checked its arguments
	}
	sig := c.lookupFunc(f, p, what)
	if sig == nil {
		return nil
	}
	ok := true
	// The parameters: the context, then the arguments, then the extra
	// arguments of a template.
	params := sig.Params()
	if params.Len() == 0 {
		c.add(fp, "%s takes no arguments; a start function takes a context.Context first", what)
		return nil
	}
	if p0 := params.At(0).Type(); !types.AssignableTo(u.ctx, p0) {
		c.add(fp, "%s takes %s; its first parameter must be a context.Context, which it gets from its supervisor", what, c.params(sig))
		return nil
	}
	// The types of the extra arguments exist, whatever they are passed to.
	extraTypes := make([]types.Type, len(extra))
	for i, x := range extra {
		xt, why := c.resolveType(x.Type)
		if xt == nil {
			name := "extra argument " + x.Name
			if i == 0 && sup != nil && sup.Cluster {
				name = "the key"
			}
			c.add(at(x.Pos, fp), "%s of %s has the type %s, %s", name, owner, x.Type, why)
			ok = false
		}
		extraTypes[i] = xt
	}
	passed := len(args) + len(extra)
	want := params.Len() - 1
	switch {
	case sig.Variadic() && passed < want-1, !sig.Variadic() && passed != want:
		ep := fp
		if passed > want && !sig.Variadic() {
			if want < len(args) {
				ep = at(args[want].Pos, fp)
			} else {
				ep = at(extra[want-len(args)].Pos, fp)
			}
		}
		c.add(ep, "%s takes %s: %s after ctx; the spec passes %s", what, c.params(sig), count(want, "argument"), c.passed(args, extra, sup))
		ok = false
	default:
		for i, a := range args {
			if !c.checkArg(u, a, paramAt(sig, i+1), i+1, fp, owner, f.Val.Name, sup) {
				ok = false
			}
		}
		for i, x := range extra {
			if extraTypes[i] != nil && !c.checkExtra(x, extraWhat(x, i, sup), extraTypes[i], paramAt(sig, len(args)+i+1), fp, owner, f.Val.Name) {
				ok = false
			}
		}
	}
	// The results: a service and an error.
	res := sig.Results()
	if res.Len() != 2 {
		c.add(fp, "%s returns %s; a start function returns (S, error), S a runtime.Service", what, c.results(sig))
		return nil
	}
	if !types.AssignableTo(res.At(1).Type(), u.errorT) {
		c.add(fp, "%s returns %s; its second result must be an error", what, c.results(sig))
		ok = false
	}
	svc := res.At(0).Type()
	if svc != types.Typ[types.Invalid] && !types.AssignableTo(svc, u.service) {
		c.add(fp, "%s returns %s, and %s is not a runtime.Service: %s", what, c.results(sig), c.typeString(svc), c.whyNotService(u, svc))
		ok = false
	}
	if !ok {
		return nil
	}
	return svc
}

// isGeneratedNew reports whether name is the New function that the
// generated file declares for a supervisor of the spec.
func (c *checker) isGeneratedNew(name string) bool {
	for _, sup := range c.spec.Supervisors {
		if name == "New"+spec.CamelCase(sup.Name)+"Supervisor" {
			return true
		}
	}
	return false
}

// whyNotService says what t lacks to be a runtime.Service.
func (c *checker) whyNotService(u *universe, t types.Type) string {
	if _, isPtr := t.(*types.Pointer); !isPtr && types.AssignableTo(types.NewPointer(t), u.service) {
		return fmt.Sprintf("its Serve method has a pointer receiver; return *%s", c.typeString(t))
	}
	m, wrong := types.MissingMethod(t, u.service, true)
	if m == nil {
		return "it lacks Serve(context.Context) error"
	}
	if wrong {
		return fmt.Sprintf("its method %s has the wrong type; want Serve(ctx context.Context) error", m.Name())
	}
	return fmt.Sprintf("it has no method %s(ctx context.Context) error", m.Name())
}

// paramAt returns the i-th parameter of sig, the element of the variadic
// one for those after it.
func paramAt(sig *types.Signature, i int) *types.Var {
	n := sig.Params().Len()
	if sig.Variadic() && i >= n-1 {
		v := sig.Params().At(n - 1)
		return types.NewParam(v.Pos(), v.Pkg(), v.Name(), v.Type().(*types.Slice).Elem())
	}
	return sig.Params().At(i)
}

func count(n int, what string) string {
	switch n {
	case 0:
		return "no " + what + "s"
	case 1:
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// passed describes the arguments a spec passes.
func (c *checker) passed(args []spec.Arg, extra []spec.ExtraArg, sup *spec.Supervisor) string {
	n := len(args) + len(extra)
	if n == 0 {
		return "none"
	}
	var parts []string
	for _, a := range args {
		parts = append(parts, kind(a))
	}
	for i, x := range extra {
		parts = append(parts, "the "+extraWhat(x, i, sup))
	}
	return strconv.Itoa(n) + ": " + strings.Join(parts, ", ")
}

// extraWhat names the i-th extra argument x of the template of sup: the
// first of a cluster supervisor's is its key.
func extraWhat(x spec.ExtraArg, i int, sup *spec.Supervisor) string {
	if i == 0 && sup != nil && sup.Cluster {
		return fmt.Sprintf("key %s", x.Type)
	}
	return fmt.Sprintf("extra argument %s %s", x.Name, x.Type)
}

// kind names the kind of an argument in words.
func kind(a spec.Arg) string {
	switch a.Kind {
	case spec.IntArg:
		return "an integer"
	case spec.FloatArg:
		return "a float"
	case spec.StringArg:
		return "a string"
	case spec.BoolArg:
		return "a bool"
	case spec.NullArg:
		return "null"
	case spec.DurationArg:
		return "a duration"
	case spec.RefArg:
		return fmt.Sprintf("a ref to child %q", a.Name)
	case spec.RegistryArg:
		return fmt.Sprintf("registry %q", a.Name)
	case spec.DepArg:
		return fmt.Sprintf("dependency %q", a.Name)
	case spec.SupervisorArg:
		return fmt.Sprintf("cluster supervisor %q", a.Name)
	}
	return "an argument"
}

// paramName names a parameter for a message: "parameter every of NewTicker".
func paramName(v *types.Var, i int, fn string) string {
	if v.Name() != "" && v.Name() != "_" {
		return fmt.Sprintf("parameter %s of %s", v.Name(), fn)
	}
	return fmt.Sprintf("parameter %d of %s", i+1, fn)
}

// checkArg checks the i-th argument (from 1) against its parameter.
func (c *checker) checkArg(u *universe, a spec.Arg, param *types.Var, i int, fp spec.Pos, owner, fn string, sup *spec.Supervisor) bool {
	return c.checkValue(u, a, param.Type(), fmt.Sprintf("argument %s of %s", a.Literal(), owner), paramName(param, i, fn), fp, sup)
}

// checkValue checks that the argument a, which subject names, fits into
// target, of type t: a parameter, a registry's keys or values. sup is the
// supervisor of a ref, nil where a ref cannot be.
func (c *checker) checkValue(u *universe, a spec.Arg, t types.Type, subject, target string, fp spec.Pos, sup *spec.Supervisor) bool {
	ap := at(a.Pos, fp)
	if t == types.Typ[types.Invalid] {
		return true // the package's own mistake, which the compiler reports
	}
	bad := func(format string, args ...any) bool {
		c.add(ap, "%s %s", subject, fmt.Sprintf(format, args...))
		return false
	}
	switch a.Kind {
	case spec.IntArg, spec.FloatArg:
		if c.hasUnit(u, t) {
			return bad("is %s, for %s, %s: go would read it as %s; a duration in the spec has a unit: write %s",
				kind(a), target, an(c.typeString(t)), nanoseconds(a), durationFix(a))
		}
		var v constant.Value
		if a.Kind == spec.IntArg {
			v = constant.MakeInt64(a.Int)
		} else {
			v = constant.MakeFloat64(a.Float)
		}
		if why, fits := representable(v, a.Kind == spec.IntArg, t); !fits {
			return bad("is %s, but %s is %s%s", kind(a), target, an(c.typeString(t)), why)
		}
	case spec.StringArg:
		if !untypedFits(t, types.String) {
			return bad("is a string, but %s is %s", target, an(c.typeString(t)))
		}
	case spec.BoolArg:
		if !untypedFits(t, types.Bool) {
			return bad("is a bool, but %s is %s", target, an(c.typeString(t)))
		}
	case spec.NullArg:
		if !nilable(t) {
			return bad("is nil, but %s is %s, which cannot be nil", target, an(c.typeString(t)))
		}
	case spec.DurationArg:
		if !types.AssignableTo(u.duration, t) {
			return bad("is a time.Duration, but %s is %s", target, an(c.typeString(t)))
		}
	case spec.RegistryArg:
		rt := c.regTypes[a.Name]
		if rt == nil {
			return true // its types are reported already
		}
		if !types.AssignableTo(rt.ptr, t) {
			return bad("is a %s, but %s is %s", c.typeString(rt.ptr), target, an(c.typeString(t)))
		}
	case spec.SupervisorArg:
		// A type of the generated file, which the check cannot see: the
		// compiler checks it.
		return true
	case spec.DepArg:
		dt := c.depTypes[a.Name]
		if dt == nil || dt == types.Typ[types.Invalid] {
			return true // its type is reported already, or generated
		}
		if !types.AssignableTo(dt, t) {
			return bad("is %s, but %s is %s", an(c.typeString(dt)), target, an(c.typeString(t)))
		}
	case spec.RefArg:
		if sup == nil {
			return true
		}
		var ref *spec.Child
		for _, ch := range sup.Children {
			if ch.ID.Val == a.Name {
				ref = ch
				break
			}
		}
		svc := c.services[ref]
		if ref == nil || svc == nil {
			return true // a nested supervisor's type is generated; or its start is reported already
		}
		inst, err := types.Instantiate(nil, u.ref, []types.Type{svc}, false)
		if err != nil {
			return true
		}
		refType := types.NewPointer(inst)
		if !types.AssignableTo(refType, t) {
			return bad("is a %s, the ref to what %s starts, but %s is %s", c.typeString(refType), ref.Start.Val, target, an(c.typeString(t)))
		}
	}
	return true
}

// checkExtra checks a template's extra argument, of type xt, against its
// parameter.
func (c *checker) checkExtra(x spec.ExtraArg, what string, xt types.Type, param *types.Var, fp spec.Pos, owner, fn string) bool {
	t := param.Type()
	xp := at(x.Pos, fp)
	switch {
	case t == types.Typ[types.Invalid] || xt == types.Typ[types.Invalid]:
		return true
	case !types.AssignableTo(xt, t):
		c.add(xp, "%s of %s is %s, but %s is %s", what, owner, an(c.typeString(xt)), paramName(param, 0, fn), an(c.typeString(t)))
		return false
	}
	return true
}

// resolveType returns the Go type of a type expression of the spec, or why
// there is none.
func (c *checker) resolveType(t *spec.TypeExpr) (types.Type, string) {
	switch t.Kind {
	case spec.PointerType:
		e, why := c.resolveType(t.Elem)
		if e == nil {
			return nil, why
		}
		return types.NewPointer(e), ""
	case spec.SliceType:
		e, why := c.resolveType(t.Elem)
		if e == nil {
			return nil, why
		}
		return types.NewSlice(e), ""
	case spec.ArrayType:
		e, why := c.resolveType(t.Elem)
		if e == nil {
			return nil, why
		}
		return types.NewArray(e, t.Len), ""
	case spec.MapType:
		k, why := c.resolveType(t.Key)
		if k == nil {
			return nil, why
		}
		e, why := c.resolveType(t.Elem)
		if e == nil {
			return nil, why
		}
		if !types.Comparable(k) {
			return nil, fmt.Sprintf("whose key type %s is not comparable", c.typeString(k))
		}
		return types.NewMap(k, e), ""
	}
	var scope *types.Scope
	where := "package " + c.l.pkg.Name()
	if t.Path == "" {
		if obj := types.Universe.Lookup(t.Name); obj != nil {
			if tn, ok := obj.(*types.TypeName); ok {
				return tn.Type(), ""
			}
		}
		scope = c.l.pkg.Scope()
		if isGenerated(c.spec, t.Name) {
			return types.Typ[types.Invalid], "" // a generated type: the compiler checks it
		}
	} else {
		pkg, why := c.l.importPkg(t.Path)
		if pkg == nil {
			return nil, fmt.Sprintf("from package %s, which cannot be loaded: %s", t.Path, why)
		}
		scope, where = pkg.Scope(), "package "+t.Path
	}
	obj := scope.Lookup(t.Name)
	if obj == nil {
		return nil, fmt.Sprintf("which %s does not declare", where)
	}
	tn, ok := obj.(*types.TypeName)
	if !ok {
		return nil, fmt.Sprintf("which is not a type in %s", where)
	}
	return tn.Type(), ""
}

// isGenerated reports whether name is a type the generated file declares.
func isGenerated(s *spec.Spec, name string) bool {
	if name == "Deps" && s.HasDeps() {
		return true
	}
	for _, sup := range s.Supervisors {
		if spec.CamelCase(sup.Name)+"Supervisor" == name || sup.Cluster && spec.ClusterArgs(sup.Name) == name {
			return true
		}
	}
	return false
}

// checkCallback checks an application's prep_stop or stop: a
// func(context.Context), with the parameters of args after the context.
func (c *checker) checkCallback(u *universe, f spec.Value[spec.Func], args []spec.Arg, p spec.Pos, key, owner string) {
	if f.Val.IsZero() {
		return
	}
	what := fmt.Sprintf("%s %s of %s", key, f.Val, owner)
	sig := c.lookupFunc(f, p, what)
	if sig == nil {
		return
	}
	fp := at(f.Pos, p)
	if len(args) == 0 {
		want := types.NewSignatureType(nil, nil, nil, types.NewTuple(types.NewParam(token.NoPos, nil, "ctx", u.ctx)), nil, false)
		if !types.AssignableTo(sig, want) {
			c.add(fp, "%s is a func%s%s; it must be a func(ctx context.Context), with no results", what, c.params(sig), resultsSuffix(c, sig))
		}
		return
	}
	params := sig.Params()
	switch want := len(args); {
	case params.Len() == 0 || !types.AssignableTo(u.ctx, params.At(0).Type()):
		c.add(fp, "%s takes %s; its first parameter must be a context.Context", what, c.params(sig))
	case sig.Variadic() && want < params.Len()-2, !sig.Variadic() && want != params.Len()-1:
		c.add(fp, "%s takes %s: %s after ctx; the spec passes %s", what, c.params(sig), count(params.Len()-1, "argument"), c.passed(args, nil, nil))
	case sig.Results().Len() > 0:
		c.add(fp, "%s returns %s; a callback returns nothing", what, c.results(sig))
	default:
		for i, a := range args {
			c.checkArg(u, a, paramAt(sig, i+1), i+1, fp, owner+"'s "+key, f.Val.Name, nil)
		}
	}
}

func resultsSuffix(c *checker, sig *types.Signature) string {
	switch sig.Results().Len() {
	case 0:
		return ""
	case 1:
		return " " + c.typeString(sig.Results().At(0).Type())
	}
	return " " + c.results(sig)
}

// hasUnit reports whether t is time.Duration, or a type of the checked
// package declared as one, such as type Timeout time.Duration: a type whose
// numbers mean nothing without a unit.
func (c *checker) hasUnit(u *universe, t types.Type) bool {
	for range 8 {
		if types.Identical(t, u.duration) {
			return true
		}
		named, ok := t.(*types.Named)
		if !ok || named.Obj().Pkg() != c.l.pkg {
			return false
		}
		next := c.declaredAs(named.Obj())
		if next == nil {
			return false
		}
		t = next
	}
	return false
}

// declaredAs returns the type a type of the package is declared as, when its
// declaration names one: Duration for type Timeout time.Duration.
func (c *checker) declaredAs(obj *types.TypeName) types.Type {
	for _, f := range c.l.files {
		if f.Pos() > obj.Pos() || obj.Pos() > f.End() {
			continue
		}
		return declaredIn(c, f, obj)
	}
	return nil
}

// nanoseconds says what Go makes of a number as a time.Duration.
func nanoseconds(a spec.Arg) string {
	if a.Kind == spec.FloatArg {
		return fmt.Sprintf("%s nanoseconds", strconv.FormatFloat(a.Float, 'g', -1, 64))
	}
	return fmt.Sprintf("%d nanoseconds", a.Int)
}

// durationFix gives the duration the spec means, most likely: the number as
// milliseconds, as shutdown and {duration: n} read a number.
func durationFix(a spec.Arg) string {
	ms := a.Float
	if a.Kind == spec.IntArg {
		ms = float64(a.Int)
	}
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) || ms < float64(math.MinInt64/int64(time.Millisecond)) {
		return "{duration: 1s}, with the unit you mean"
	}
	d := time.Duration(ms * float64(time.Millisecond))
	fix := fmt.Sprintf("{duration: %s}", strings.TrimSuffix(strconv.FormatFloat(ms, 'f', -1, 64), ".0")+"ms")
	if d%time.Second == 0 && d != 0 {
		fix += fmt.Sprintf(" or {duration: %s}", d)
	}
	return fix + ", if milliseconds are what you mean"
}

// representable reports whether the constant v (an integer when isInt) can
// be assigned to a variable of type t, and when it cannot, why, beyond the
// type: "" or ", which holds 0 to 255".
func representable(v constant.Value, isInt bool, t types.Type) (string, bool) {
	def := types.Typ[types.Float64]
	if isInt {
		def = types.Typ[types.Int]
	}
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		_, isIface := t.Underlying().(*types.Interface)
		return "", isIface && types.AssignableTo(def, t)
	}
	info := b.Info()
	switch {
	case info&types.IsInteger != 0:
		iv := constant.ToInt(v)
		if iv.Kind() != constant.Int {
			return ", and a number with a fraction is not one", false
		}
		lo, hi := intRange(b.Kind())
		x, _ := new(big.Int).SetString(iv.ExactString(), 10)
		if x.Cmp(lo) < 0 || x.Cmp(hi) > 0 {
			return fmt.Sprintf(", which holds %s to %s", lo, hi), false
		}
	case info&types.IsFloat != 0:
		if b.Kind() == types.Float32 {
			f, _ := constant.Float64Val(v)
			if math.Abs(f) > math.MaxFloat32 {
				return ", which cannot hold a number that large", false
			}
		}
	case info&types.IsComplex != 0:
	default:
		return "", false
	}
	return "", true
}

// intRange returns the bounds of an integer kind, for gc on 64 bits.
func intRange(k types.BasicKind) (lo, hi *big.Int) {
	bits, signed := 64, true
	switch k {
	case types.Int8:
		bits = 8
	case types.Int16:
		bits = 16
	case types.Int32:
		bits = 32
	case types.Uint8:
		bits, signed = 8, false
	case types.Uint16:
		bits, signed = 16, false
	case types.Uint32:
		bits, signed = 32, false
	case types.Uint, types.Uint64, types.Uintptr:
		signed = false
	}
	one := big.NewInt(1)
	if signed {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, uint(bits-1)), one)
		lo = new(big.Int).Neg(new(big.Int).Lsh(one, uint(bits-1)))
		return lo, hi
	}
	return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(one, uint(bits)), one)
}

// untypedFits reports whether an untyped constant of kind k (string, bool)
// can be assigned to t.
func untypedFits(t types.Type, k types.BasicKind) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() == k
	case *types.Interface:
		return types.AssignableTo(types.Typ[k], t)
	}
	return false
}

// nilable reports whether nil can be assigned to t.
func nilable(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map, *types.Chan, *types.Signature, *types.Interface:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	}
	return false
}

// declaredIn returns the type that the declaration of obj in f names, or
// nil.
func declaredIn(c *checker, f *ast.File, obj *types.TypeName) types.Type {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			if ts := sp.(*ast.TypeSpec); ts.Name.Pos() == obj.Pos() {
				if tv, ok := c.l.info.Types[ts.Type]; ok {
					return tv.Type
				}
				return nil
			}
		}
	}
	return nil
}
