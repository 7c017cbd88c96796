package gocheck

import (
	"fmt"
	"go/token"
	"go/types"
	"reflect"

	"github.com/arborgo/arbor/spec"
)

// A cluster supervisor's keys and extra arguments travel through etcd to
// the node that runs the child, so they must survive being encoded there
// and decoded here: the rules of the cluster module's CheckArgs and of its
// keys, applied here to the Go types the spec names, before any code is
// generated, so that a mistake is reported at the spec's line rather than
// by cluster.NewSupervisor when the program starts.

// encodings are the interfaces that decide how a value is encoded: the
// methods of encoding.TextMarshaler, encoding.TextUnmarshaler,
// json.Marshaler and json.Unmarshaler, declared here so that checking a
// spec loads no more packages.
type encodings struct {
	textMarshaler, textUnmarshaler, jsonMarshaler, jsonUnmarshaler *types.Interface
}

func newEncodings() *encodings {
	bytes := types.NewSlice(types.Typ[types.Byte])
	errT := types.Universe.Lookup("error").Type()
	iface := func(name string, params, results []types.Type) *types.Interface {
		vars := func(ts []types.Type) *types.Tuple {
			var vs []*types.Var
			for _, t := range ts {
				vs = append(vs, types.NewParam(token.NoPos, nil, "", t))
			}
			return types.NewTuple(vs...)
		}
		sig := types.NewSignatureType(nil, nil, nil, vars(params), vars(results), false)
		return types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, name, sig)}, nil).Complete()
	}
	return &encodings{
		textMarshaler:   iface("MarshalText", nil, []types.Type{bytes, errT}),
		textUnmarshaler: iface("UnmarshalText", []types.Type{bytes}, []types.Type{errT}),
		jsonMarshaler:   iface("MarshalJSON", nil, []types.Type{bytes, errT}),
		jsonUnmarshaler: iface("UnmarshalJSON", []types.Type{bytes}, []types.Type{errT}),
	}
}

// keyProblem says why t cannot be a cluster key, or "" when it can: a type
// whose value implements encoding.TextMarshaler and whose pointer
// encoding.TextUnmarshaler, or a string, integer or bool type.
func (e *encodings) keyProblem(c *checker, t types.Type) string {
	if types.Implements(t, e.textMarshaler) && types.Implements(types.NewPointer(t), e.textUnmarshaler) {
		return ""
	}
	if b, ok := t.Underlying().(*types.Basic); ok {
		switch info := b.Info(); {
		case info&types.IsString != 0, info&types.IsBoolean != 0, info&types.IsInteger != 0:
			return ""
		case info&types.IsFloat != 0:
			return fmt.Sprintf("%s is a floating-point number, whose text form does not always give it back", c.typeString(t))
		}
	}
	what := describeKind(t)
	if types.Implements(t, e.textMarshaler) {
		return fmt.Sprintf("%s implements encoding.TextMarshaler, but its pointer does not implement encoding.TextUnmarshaler", c.typeString(t))
	}
	return fmt.Sprintf("%s is %s", c.typeString(t), what)
}

// argsProblem says why values of t cannot travel as a keyed child's
// arguments, which path names for the message, or "" when they can: the
// rule of cluster.CheckArgs.
func (e *encodings) argsProblem(c *checker, t types.Type, path string, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	ptr := types.NewPointer(t)
	if (types.Implements(t, e.jsonMarshaler) || types.Implements(ptr, e.jsonMarshaler)) && types.Implements(ptr, e.jsonUnmarshaler) {
		return ""
	}
	bad := func(why string) string {
		return fmt.Sprintf("%s (%s) %s", path, c.typeString(t), why)
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch info := u.Info(); {
		case info&types.IsComplex != 0:
			return bad("is a complex number, which json does not have")
		case u.Kind() == types.UnsafePointer:
			return bad("is an unsafe pointer, which cannot leave the process")
		case info&(types.IsBoolean|types.IsString|types.IsInteger|types.IsFloat) != 0:
			return ""
		}
		return bad("cannot be encoded")
	case *types.Pointer:
		return e.argsProblem(c, u.Elem(), path, seen)
	case *types.Slice:
		return e.argsProblem(c, u.Elem(), path+"[]", seen)
	case *types.Array:
		return e.argsProblem(c, u.Elem(), path+"[]", seen)
	case *types.Map:
		k := u.Key()
		if b, ok := k.Underlying().(*types.Basic); !ok || b.Info()&(types.IsString|types.IsInteger) == 0 {
			if !types.Implements(k, e.textMarshaler) {
				return bad(fmt.Sprintf("has keys of type %s; a map key must be a string, an integer or an encoding.TextMarshaler", c.typeString(k)))
			}
		}
		return e.argsProblem(c, u.Elem(), path+"[key]", seen)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				return bad(fmt.Sprintf("has the unexported field %s, which would not reach the other node", f.Name()))
			}
			if reflect.StructTag(u.Tag(i)).Get("json") == "-" {
				return bad(fmt.Sprintf("has the field %s tagged json:\"-\", which would not reach the other node", f.Name()))
			}
			if why := e.argsProblem(c, f.Type(), path+"."+f.Name(), seen); why != "" {
				return why
			}
		}
		return ""
	case *types.Interface:
		return bad("is an interface, which does not say what to decode it into")
	case *types.Chan:
		return bad("is a channel, which cannot leave the process")
	case *types.Signature:
		return bad("is a function, which cannot leave the process")
	}
	return bad("cannot be encoded")
}

// describeKind names what kind of type t is, for a message.
func describeKind(t types.Type) string {
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return "a pointer"
	case *types.Slice:
		return "a slice"
	case *types.Array:
		return "an array"
	case *types.Map:
		return "a map"
	case *types.Struct:
		return "a struct"
	case *types.Interface:
		return "an interface"
	case *types.Chan:
		return "a channel"
	case *types.Signature:
		return "a function"
	case *types.Basic:
		if u.Info()&types.IsComplex != 0 {
			return "a complex number"
		}
	}
	return "not a string, integer or bool type"
}

// clusterKey returns the key of cluster supervisor sup as the first extra
// argument of its template's start function, after checking that its type
// can be a cluster key.
func (c *checker) clusterKey(sup *spec.Supervisor) spec.ExtraArg {
	t := sup.Key.Val
	if t == nil {
		t = &spec.TypeExpr{Kind: spec.NamedType, Name: "string"}
	}
	p := at(sup.Key.Pos, at(sup.Template.Pos, sup.Pos))
	key := spec.ExtraArg{Pos: p, Name: "key", Type: t}
	kt, _ := c.resolveType(t)
	if kt == nil || kt == types.Typ[types.Invalid] {
		return key // the check of the start function reports it
	}
	if why := c.enc.keyProblem(c, kt); why != "" {
		c.add(p, "key %s of cluster supervisor %q cannot be a cluster key: %s; a key is a string, integer or bool type, or a type whose value implements encoding.TextMarshaler and whose pointer encoding.TextUnmarshaler", t, sup.Name, why)
	}
	return key
}

// checkClusterArgs checks that the extra arguments of cluster supervisor
// sup can travel through etcd.
func (c *checker) checkClusterArgs(sup *spec.Supervisor) {
	for _, x := range sup.Template.ExtraArgs {
		xt, _ := c.resolveType(x.Type)
		if xt == nil || xt == types.Typ[types.Invalid] {
			continue // reported with the start function
		}
		if why := c.enc.argsProblem(c, xt, x.Name, map[types.Type]bool{}); why != "" {
			c.add(at(x.Pos, sup.Template.Pos), "extra argument %s %s of cluster supervisor %q cannot travel through etcd to the node that runs the child: %s",
				x.Name, x.Type, sup.Name, why)
		}
	}
}

// checkHandoff checks a distributed application's handoff: a
// func(context.Context) ([]byte, error), with the parameters of args after
// the context.
func (c *checker) checkHandoff(u *universe, app *spec.Application) {
	ds := app.Distributed
	f := ds.Handoff
	if f.Val.IsZero() {
		return
	}
	owner := fmt.Sprintf("application %q", app.Name)
	what := fmt.Sprintf("handoff %s of %s", f.Val, owner)
	sig := c.lookupFunc(f, ds.Pos, what)
	if sig == nil {
		return
	}
	fp := at(f.Pos, ds.Pos)
	params, res := sig.Params(), sig.Results()
	bytes := types.NewSlice(types.Typ[types.Byte])
	switch want := len(ds.HandoffArgs); {
	case params.Len() == 0 || !types.AssignableTo(u.ctx, params.At(0).Type()):
		c.add(fp, "%s takes %s; its first parameter must be a context.Context", what, c.params(sig))
	case sig.Variadic() && want < params.Len()-2, !sig.Variadic() && want != params.Len()-1:
		c.add(fp, "%s takes %s: %s after ctx; the spec passes %s", what, c.params(sig), count(params.Len()-1, "argument"), c.passed(ds.HandoffArgs, nil, nil))
	case res.Len() != 2 || !types.AssignableTo(res.At(0).Type(), bytes) || !types.AssignableTo(res.At(1).Type(), u.errorT):
		c.add(fp, "%s returns %s; a handoff returns ([]byte, error): the payload the new node's start gets", what, c.results(sig))
	default:
		for i, a := range ds.HandoffArgs {
			c.checkArg(u, a, paramAt(sig, i+1), i+1, fp, owner+"'s handoff", f.Val.Name, nil)
		}
	}
}
