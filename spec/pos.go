package spec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in a spec file. Line and Col count from 1; the zero Pos
// means "not from the file" (a default, or a model built by hand).
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether p points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", or "file" when p has no line.
func (p Pos) String() string {
	if !p.IsValid() {
		if p.File == "" {
			return "-"
		}
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// short returns "line:col", used to point at an earlier position in the same
// file.
func (p Pos) short() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

func comparePos(a, b Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

// ErrInvalid is matched by every error that Parse and Validate return for a
// spec that breaks the rules: errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid spec")

// Error is one problem in a spec: where, and what. Msg is lowercase, names
// the bad value and, where there is one, the allowed set.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line:col: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// ErrorList is every problem found in a spec, sorted by position. Parse and
// Validate never return an empty ErrorList: no problem is a nil error.
type ErrorList []*Error

// Error returns one error per line, in order.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

// sortErrors sorts l by position, keeping the order of errors at the same
// position.
func sortErrors(l ErrorList) {
	slices.SortStableFunc(l, func(a, b *Error) int { return comparePos(a.Pos, b.Pos) })
}

// MaxErrors is the most errors Parse and Validate list. A spec with more
// ends its list with one more error that says so.
const MaxErrors = 1000

// errs collects errors, up to MaxErrors; the zero value is ready to use.
type errs struct {
	list    ErrorList
	dropped int // errors not collected, beyond MaxErrors
	// missing holds, for an error that says a mapping lacks a key, the
	// keys it lacks.
	missing map[*Error][]string
}

// addMissing adds an error that says the mapping at p lacks one of keys.
func (e *errs) addMissing(p Pos, keys []string, format string, args ...any) {
	e.add(p, format, args...)
	if n := len(e.list); n > 0 && e.list[n-1].Pos == p {
		if e.missing == nil {
			e.missing = map[*Error][]string{}
		}
		e.missing[e.list[n-1]] = keys
	}
}

func (e *errs) add(p Pos, format string, args ...any) {
	if len(e.list) >= MaxErrors {
		e.dropped++
		return
	}
	e.list = append(e.list, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// finish sorts list by position and, when it is longer than MaxErrors or
// errors were dropped, cuts it to MaxErrors and ends it with an error that
// says so, at the position of the last one kept.
func finish(list ErrorList, dropped bool) ErrorList {
	sortErrors(list)
	if len(list) > MaxErrors {
		list, dropped = list[:MaxErrors], true
	}
	if dropped && len(list) > 0 {
		list = append(list, &Error{Pos: list[len(list)-1].Pos, Msg: fmt.Sprintf("too many errors; arbor lists the first %d", MaxErrors)})
	}
	return list
}
