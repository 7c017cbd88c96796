package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Func names a Go function in the generated code: Name in the generated
// file's own package when Path is "", else the exported Name of the package
// with import path Path.
type Func struct {
	Path string
	Name string
}

// IsZero reports whether f names no function.
func (f Func) IsZero() bool { return f == Func{} }

// String returns f as the spec spells it: Name or "import/path.Name".
func (f Func) String() string {
	if f.Path == "" {
		return f.Name
	}
	return f.Path + "." + f.Name
}

// ParseFunc parses a function reference, Name or "import/path.Name". Names
// are ASCII Go identifiers; a qualified one must be exported.
func ParseFunc(s string) (Func, error) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		f := Func{Name: s}
		return f, checkFunc(f)
	}
	f := Func{Path: s[:i], Name: s[i+1:]}
	if f.Path == "" {
		return f, errors.New("empty import path before the dot")
	}
	return f, checkFunc(f)
}

func checkFunc(f Func) error {
	if f.Path != "" {
		if err := checkImportPath(f.Path); err != nil {
			return err
		}
		if !isGoIdent(f.Name) || !isExported(f.Name) {
			return fmt.Errorf("%+q after the import path is not an exported go identifier", f.Name)
		}
		return nil
	}
	switch {
	case strings.Contains(f.Name, "."):
		return errors.New("empty import path before the dot")
	case !isGoIdent(f.Name):
		return errors.New("want a go function name or \"import/path.Name\"")
	case f.Name == "_":
		return errors.New("the blank identifier names no function")
	case IsKeyword(f.Name):
		return fmt.Errorf("%+q is a go keyword", f.Name)
	}
	return nil
}

func isExported(s string) bool { return s != "" && 'A' <= s[0] && s[0] <= 'Z' }

// checkImportPath accepts a conservative subset of Go import paths: slash-
// separated elements of ASCII letters, digits and "-._~+", none empty, none
// starting with a dot.
func checkImportPath(p string) error {
	if p == "" {
		return errors.New("empty import path")
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == "" {
			return fmt.Errorf("import path %+q has an empty element", p)
		}
		if elem[0] == '.' {
			return fmt.Errorf("import path %+q has an element starting with a dot", p)
		}
		for i := 0; i < len(elem); i++ {
			c := elem[i]
			if !isLetter(c) && !isDigit(c) && !strings.ContainsRune("-._~+", rune(c)) {
				return fmt.Errorf("import path %+q has the invalid character %+q", p, c)
			}
		}
	}
	return nil
}

// TypeKind is the kind of a TypeExpr.
type TypeKind uint8

// The kinds of type expressions extra arguments may have.
const (
	NamedType   TypeKind = iota // Name, or Path.Name
	PointerType                 // *Elem
	SliceType                   // []Elem
	ArrayType                   // [Len]Elem
	MapType                     // map[Key]Elem
)

// TypeExpr is the Go type of a dynamic supervisor's extra argument: a named
// type (predeclared, of the generated file's package, or "import/path.Name"),
// or a pointer, slice, array or map built from those. Function, channel,
// struct and interface types are not expressible.
type TypeExpr struct {
	Kind TypeKind
	Path string    // NamedType: the import path, "" for the file's package or a predeclared type
	Name string    // NamedType
	Len  int64     // ArrayType
	Key  *TypeExpr // MapType
	Elem *TypeExpr // PointerType, SliceType, ArrayType, MapType
}

// String returns the type as the spec spells it.
func (t *TypeExpr) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *TypeExpr) write(b *strings.Builder) {
	switch t.Kind {
	case NamedType:
		if t.Path != "" {
			b.WriteString(t.Path)
			b.WriteByte('.')
		}
		b.WriteString(t.Name)
	case PointerType:
		b.WriteByte('*')
		t.Elem.write(b)
	case SliceType:
		b.WriteString("[]")
		t.Elem.write(b)
	case ArrayType:
		b.WriteByte('[')
		b.WriteString(strconv.FormatInt(t.Len, 10))
		b.WriteByte(']')
		t.Elem.write(b)
	case MapType:
		b.WriteString("map[")
		t.Key.write(b)
		b.WriteByte(']')
		t.Elem.write(b)
	}
}

// maxTypeDepth bounds the nesting of a type expression.
const maxTypeDepth = 32

// ParseType parses a type expression strictly: no spaces, and only the forms
// TypeExpr describes.
func ParseType(s string) (*TypeExpr, error) {
	p := typeParser{s: s}
	t, err := p.typ(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, fmt.Errorf("unexpected %+q at offset %d", s[p.i:], p.i)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) typ(depth int) (*TypeExpr, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type nests deeper than %d levels", maxTypeDepth)
	}
	rest := p.s[p.i:]
	switch {
	case rest == "":
		return nil, errors.New("missing type")
	case rest[0] == '*':
		p.i++
		elem, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		return &TypeExpr{Kind: PointerType, Elem: elem}, nil
	case rest[0] == '[':
		p.i++
		j := p.i
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		if j >= len(p.s) || p.s[j] != ']' {
			return nil, fmt.Errorf("want \"[]\" or \"[N]\" at offset %d", p.i-1)
		}
		digits := p.s[p.i:j]
		p.i = j + 1
		elem, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		if digits == "" {
			return &TypeExpr{Kind: SliceType, Elem: elem}, nil
		}
		if len(digits) > 1 && digits[0] == '0' {
			return nil, fmt.Errorf("array length %s has a leading zero", digits)
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("array length %s is too large", digits)
		}
		return &TypeExpr{Kind: ArrayType, Len: n, Elem: elem}, nil
	case strings.HasPrefix(rest, "map["):
		p.i += len("map[")
		key, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return nil, fmt.Errorf("want \"]\" after the map key at offset %d", p.i)
		}
		p.i++
		elem, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		return &TypeExpr{Kind: MapType, Key: key, Elem: elem}, nil
	}
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if !isLetter(c) && !isDigit(c) && !strings.ContainsRune("_-.~+/", rune(c)) {
			break
		}
		j++
	}
	name := p.s[p.i:j]
	if name == "" {
		return nil, fmt.Errorf("unexpected %+q at offset %d", p.s[p.i:], p.i)
	}
	p.i = j
	t := &TypeExpr{Kind: NamedType, Name: name}
	if k := strings.LastIndexByte(name, '.'); k >= 0 {
		t.Path, t.Name = name[:k], name[k+1:]
		if t.Path == "" {
			return nil, errors.New("empty import path before the dot")
		}
	}
	return t, checkType(t, 0)
}

// checkType checks the names in a type expression, for ParseType and for
// models built by hand.
func checkType(t *TypeExpr, depth int) error {
	if t == nil {
		return errors.New("missing type")
	}
	if depth > maxTypeDepth {
		return fmt.Errorf("type nests deeper than %d levels", maxTypeDepth)
	}
	switch t.Kind {
	case NamedType:
		if t.Path != "" {
			if err := checkImportPath(t.Path); err != nil {
				return err
			}
			if !isGoIdent(t.Name) || !isExported(t.Name) {
				return fmt.Errorf("%+q after the import path is not an exported go identifier", t.Name)
			}
			return nil
		}
		switch {
		case !isGoIdent(t.Name):
			return fmt.Errorf("%+q is not a go type name", t.Name)
		case t.Name == "_":
			return errors.New("the blank identifier names no type")
		case IsKeyword(t.Name):
			return fmt.Errorf("%+q is a go keyword; allowed forms: Name, import/path.Name, *T, []T, [N]T, map[K]V", t.Name)
		}
		return nil
	case PointerType, SliceType:
	case ArrayType:
		if t.Len < 0 {
			return fmt.Errorf("array length %d is negative", t.Len)
		}
	case MapType:
		if err := checkType(t.Key, depth+1); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown type kind %d", t.Kind)
	}
	return checkType(t.Elem, depth+1)
}
