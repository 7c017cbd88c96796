package spec

import (
	"go/token"
	"strings"
)

// IsName reports whether s is a valid spec name: an ASCII letter followed by
// ASCII letters, digits and underscores. Supervisor, application and registry
// names, child ids and registry references are names.
func IsName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// IsPackageName reports whether s can be the name of the generated file's
// package: an ASCII Go identifier that is neither blank nor a keyword.
func IsPackageName(s string) bool { return isGoIdent(s) && s != "_" && !IsKeyword(s) }

// isGoIdent reports whether s is an ASCII Go identifier: a letter or
// underscore followed by letters, digits and underscores.
func isGoIdent(s string) bool {
	if s == "" || (!isLetter(s[0]) && s[0] != '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// CamelCase turns a name into the Go identifier generated code uses for it:
// each part between underscores starts with an upper-case letter, and the
// underscores go ("my_pool" and "myPool" both give "MyPool"). name must
// satisfy IsName.
func CamelCase(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			upper = true
		case upper:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			upper = false
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lowerCamel is CamelCase(name) with its first letter in lower case.
func lowerCamel(name string) string {
	c := CamelCase(name)
	if c == "" {
		return c
	}
	return strings.ToLower(c[:1]) + c[1:]
}

// ChildFunc returns the name of the function that generated code declares
// to start child id of static supervisor sup: sup in lower camel case, an
// underscore, and id as the spec writes it. A camel-cased name holds no
// underscore, so no two children of a spec get the same name, and no other
// generated name has an underscore.
func ChildFunc(sup, id string) string { return lowerCamel(sup) + "_" + id }

// ChildTable returns the name of the variable that generated code declares
// for the table of children of static supervisor sup.
func ChildTable(sup string) string { return lowerCamel(sup) + "Children" }

// AppTable is the name of the variable that generated code declares for the
// table of applications.
const AppTable = "applicationsInStartOrder"

// IsKeyword reports whether s is a Go keyword.
func IsKeyword(s string) bool { return token.IsKeyword(s) }

// IsPredeclared reports whether s is one of Go's predeclared identifiers:
// types, constants, nil and built-in functions.
func IsPredeclared(s string) bool {
	switch s {
	case "any", "bool", "byte", "comparable", "complex64", "complex128", "error",
		"float32", "float64", "int", "int8", "int16", "int32", "int64", "rune",
		"string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
		"true", "false", "iota", "nil",
		"append", "cap", "clear", "close", "complex", "copy", "delete", "imag",
		"len", "make", "max", "min", "new", "panic", "print", "println", "real",
		"recover":
		return true
	}
	return false
}

// isPredeclaredType reports whether s is one of Go's predeclared types that
// a value can have (comparable is a constraint only).
func isPredeclaredType(s string) bool {
	switch s {
	case "any", "bool", "byte", "complex64", "complex128", "error",
		"float32", "float64", "int", "int8", "int16", "int32", "int64", "rune",
		"string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr":
		return true
	}
	return false
}

// DidYouMean returns the candidate closest to s when it is close enough to
// be a likely typo of it, or "": within two edits (one for a name of four
// characters or fewer), counting characters, not bytes. Its work is bounded
// by the length of s and the number of candidates.
func DidYouMean(s string, candidates []string) string {
	work := (len(s) + 1) * 65 * len(candidates)
	return closest(s, candidates, &work)
}

// closest returns the candidate closest to s when it is close enough to be
// a likely typo, or "". It compares characters, not bytes, so that an
// invisible or look-alike character counts as one typo. It spends at most
// *work compared characters, deducting what it spends, and gives no hint
// once the work is spent.
func closest(s string, candidates []string, work *int) string {
	lower := []rune(strings.ToLower(s))
	limit := 2
	if len(lower) <= 4 {
		limit = 1
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		cr := []rune(c)
		if d := len(lower) - len(cr); d > limit || -d > limit {
			continue // too far apart in length to be within the limit
		}
		cost := (len(lower) + 1) * (len(cr) + 1)
		if *work < cost {
			return ""
		}
		*work -= cost
		d := editDistance(lower, cr)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= 0 && bestDist <= limit && bestDist < len(lower) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b; the caller
// bounds their lengths.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
