// Package jsonschema validates JSON values against a JSON Schema (draft-07)
// that uses a subset of the keywords: the ones arbor's schema needs, and no
// others. Compile refuses a schema with any other keyword, so a keyword can
// never be silently ignored: what this package does not check, the schema
// does not say.
//
// Supported: boolean schemas; $ref to a JSON pointer in the same document
// ("#/definitions/name"), alone as draft-07 wants it; type, const, enum;
// pattern, minLength, maxLength; minimum, maximum, exclusiveMinimum,
// exclusiveMaximum; items (one schema), minItems, maxItems, uniqueItems;
// properties, patternProperties, additionalProperties, propertyNames,
// required, minProperties, maxProperties; allOf, anyOf, oneOf, not, if, then,
// else; and the annotations $schema, $id, $comment, title, description,
// default, examples, definitions.
//
// Values are what encoding/json decodes into an any: map[string]any, []any,
// string, float64, bool and nil. Patterns are Go regular expressions, which
// agree with the ECMA-262 expressions JSON Schema specifies on the plain
// syntax arbor's schema keeps to (classes, groups, alternation, anchors,
// quantifiers).
//
// A Schema is immutable once compiled and safe for concurrent use.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a compiled schema.
type Schema struct {
	root     any
	patterns map[string]*regexp.Regexp
}

// Error is one way a value breaks the schema: where in the value (a JSON
// pointer, "" for the root) and what.
type Error struct {
	Path string
	Msg  string
}

func (e Error) Error() string {
	if e.Path == "" {
		return "/: " + e.Msg
	}
	return e.Path + ": " + e.Msg
}

// isAnnotation reports whether k is a keyword that says nothing about
// validity.
func isAnnotation(k string) bool {
	switch k {
	case "$schema", "$id", "$comment", "title", "description", "default", "examples", "definitions":
		return true
	}
	return false
}

// isKeyword reports whether k is an assertion or applicator this package
// implements.
func isKeyword(k string) bool {
	switch k {
	case "$ref", "type", "const", "enum",
		"pattern", "minLength", "maxLength",
		"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
		"items", "minItems", "maxItems", "uniqueItems",
		"properties", "patternProperties", "additionalProperties", "propertyNames", "required", "minProperties", "maxProperties",
		"allOf", "anyOf", "oneOf", "not", "if", "then", "else":
		return true
	}
	return false
}

// Compile parses a schema and checks that it uses only the supported
// keywords, that its patterns compile and that its $refs resolve.
func Compile(doc []byte) (*Schema, error) {
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	s := &Schema{root: root, patterns: map[string]*regexp.Regexp{}}
	if err := s.check(root, "#"); err != nil {
		return nil, err
	}
	return s, nil
}

// check walks the schema at ptr.
func (s *Schema) check(node any, ptr string) error {
	switch n := node.(type) {
	case bool:
		return nil
	case map[string]any:
		for _, k := range sortedKeys(n) {
			if !isKeyword(k) && !isAnnotation(k) {
				return fmt.Errorf("%s: unsupported keyword %q", ptr, k)
			}
		}
		if ref, ok := n["$ref"]; ok {
			r, ok := ref.(string)
			if !ok {
				return fmt.Errorf("%s: $ref is not a string", ptr)
			}
			if _, err := s.resolve(r); err != nil {
				return fmt.Errorf("%s: %w", ptr, err)
			}
			for k := range n {
				if k != "$ref" && !isAnnotation(k) {
					return fmt.Errorf("%s: %q beside $ref, which draft-07 ignores", ptr, k)
				}
			}
		}
		if p, ok := n["pattern"]; ok {
			if err := s.compilePattern(p, ptr); err != nil {
				return err
			}
		}
		if t, ok := n["type"]; ok {
			if err := checkType(t); err != nil {
				return fmt.Errorf("%s: %w", ptr, err)
			}
		}
		if items, ok := n["items"]; ok {
			if _, isList := items.([]any); isList {
				return fmt.Errorf("%s: items as a list (tuple validation) is not supported", ptr)
			}
		}
		for _, k := range []string{"items", "additionalProperties", "propertyNames", "not", "if", "then", "else"} {
			if sub, ok := n[k]; ok {
				if err := s.check(sub, ptr+"/"+k); err != nil {
					return err
				}
			}
		}
		for _, k := range []string{"properties", "patternProperties", "definitions"} {
			if m, ok := n[k]; ok {
				mm, ok := m.(map[string]any)
				if !ok {
					return fmt.Errorf("%s/%s is not an object", ptr, k)
				}
				for _, name := range sortedKeys(mm) {
					if k == "patternProperties" {
						if err := s.compilePattern(name, ptr+"/"+k); err != nil {
							return err
						}
					}
					if err := s.check(mm[name], ptr+"/"+k+"/"+name); err != nil {
						return err
					}
				}
			}
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if l, ok := n[k]; ok {
				list, ok := l.([]any)
				if !ok || len(list) == 0 {
					return fmt.Errorf("%s/%s is not a non-empty list", ptr, k)
				}
				for i, sub := range list {
					if err := s.check(sub, ptr+"/"+k+"/"+strconv.Itoa(i)); err != nil {
						return err
					}
				}
			}
		}
		if r, ok := n["required"]; ok {
			list, ok := r.([]any)
			if !ok {
				return fmt.Errorf("%s/required is not a list", ptr)
			}
			for _, x := range list {
				if _, ok := x.(string); !ok {
					return fmt.Errorf("%s/required holds a non-string", ptr)
				}
			}
		}
		for _, k := range []string{"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			if x, ok := n[k]; ok {
				if _, ok := x.(float64); !ok {
					return fmt.Errorf("%s/%s is not a number", ptr, k)
				}
			}
		}
		if e, ok := n["enum"]; ok {
			if _, ok := e.([]any); !ok {
				return fmt.Errorf("%s/enum is not a list", ptr)
			}
		}
		return nil
	}
	return fmt.Errorf("%s: a schema must be an object or a boolean", ptr)
}

func checkType(t any) error {
	switch t := t.(type) {
	case string:
		switch t {
		case "object", "array", "string", "number", "integer", "boolean", "null":
			return nil
		}
		return fmt.Errorf("unknown type %q", t)
	case []any:
		for _, x := range t {
			if err := checkType(x); err != nil {
				return err
			}
			if _, ok := x.(string); !ok {
				return fmt.Errorf("type list holds a non-string")
			}
		}
		return nil
	}
	return fmt.Errorf("type is neither a string nor a list")
}

func (s *Schema) compilePattern(p any, ptr string) error {
	str, ok := p.(string)
	if !ok {
		return fmt.Errorf("%s: pattern is not a string", ptr)
	}
	if _, done := s.patterns[str]; done {
		return nil
	}
	re, err := regexp.Compile(str)
	if err != nil {
		return fmt.Errorf("%s: pattern %q: %w", ptr, str, err)
	}
	s.patterns[str] = re
	return nil
}

// resolve follows a JSON pointer into the document: "#" or "#/a/b".
func (s *Schema) resolve(ref string) (any, error) {
	if ref == "#" {
		return s.root, nil
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q is not a pointer into this document", ref)
	}
	node := s.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		if node, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return node, nil
}

// Validate returns every way v breaks the schema, or nil.
func (s *Schema) Validate(v any) []Error {
	var errs []Error
	s.validate(s.root, v, "", &errs, 0)
	return errs
}

// maxRefDepth bounds $ref chains, against a schema that refers to itself
// without consuming the value.
const maxRefDepth = 64

func (s *Schema) validate(node, v any, path string, errs *[]Error, refs int) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, Error{path, fmt.Sprintf(format, args...)})
	}
	n, ok := node.(map[string]any)
	if !ok {
		if node == false {
			fail("not allowed")
		}
		return
	}
	if ref, ok := n["$ref"].(string); ok {
		if refs >= maxRefDepth {
			fail("$ref chain deeper than %d", maxRefDepth)
			return
		}
		target, _ := s.resolve(ref) // checked by Compile
		s.validate(target, v, path, errs, refs+1)
		return
	}
	if t, ok := n["type"]; ok && !hasType(t, v) {
		fail("%s is not of type %s", describe(v), typeString(t))
		return
	}
	if c, ok := n["const"]; ok && !equal(c, v) {
		fail("%s is not %s", describe(v), describe(c))
	}
	if e, ok := n["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return equal(x, v) }) {
		alts := make([]string, len(e))
		for i, x := range e {
			alts[i] = describe(x)
		}
		fail("%s is not one of %s", describe(v), strings.Join(alts, ", "))
	}
	switch v := v.(type) {
	case string:
		if p, ok := n["pattern"].(string); ok && !s.patterns[p].MatchString(v) {
			fail("%s does not match %s", describe(v), p)
		}
		length := float64(utf8.RuneCountInString(v))
		if m, ok := n["minLength"].(float64); ok && length < m {
			fail("%s is shorter than %g", describe(v), m)
		}
		if m, ok := n["maxLength"].(float64); ok && length > m {
			fail("%s is longer than %g", describe(v), m)
		}
	case float64:
		if m, ok := n["minimum"].(float64); ok && !(v >= m) {
			fail("%s is less than %s", describe(v), describe(m))
		}
		if m, ok := n["maximum"].(float64); ok && !(v <= m) {
			fail("%s is more than %s", describe(v), describe(m))
		}
		if m, ok := n["exclusiveMinimum"].(float64); ok && !(v > m) {
			fail("%s is not more than %s", describe(v), describe(m))
		}
		if m, ok := n["exclusiveMaximum"].(float64); ok && !(v < m) {
			fail("%s is not less than %s", describe(v), describe(m))
		}
	case []any:
		if m, ok := n["minItems"].(float64); ok && float64(len(v)) < m {
			fail("has %d items, fewer than %g", len(v), m)
		}
		if m, ok := n["maxItems"].(float64); ok && float64(len(v)) > m {
			fail("has %d items, more than %g", len(v), m)
		}
		if u, ok := n["uniqueItems"].(bool); ok && u {
			for i := range v {
				for j := 0; j < i; j++ {
					if equal(v[i], v[j]) {
						fail("items %d and %d are equal", j, i)
					}
				}
			}
		}
		if items, ok := n["items"]; ok {
			for i, x := range v {
				s.validate(items, x, path+"/"+strconv.Itoa(i), errs, 0)
			}
		}
	case map[string]any:
		s.object(n, v, path, errs, fail)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := n[k].([]any)
		if !ok {
			continue
		}
		matched := 0
		var sub []Error
		for _, alt := range list {
			var e []Error
			s.validate(alt, v, path, &e, refs)
			if len(e) == 0 {
				matched++
			}
			sub = append(sub, e...)
		}
		switch {
		case k == "allOf" && matched < len(list):
			*errs = append(*errs, sub...)
		case k == "anyOf" && matched == 0:
			fail("%s matches none of the alternatives: %s", describe(v), joinErrors(sub))
		case k == "oneOf" && matched != 1:
			fail("%s matches %d of the alternatives, want exactly one", describe(v), matched)
		}
	}
	if not, ok := n["not"]; ok {
		var e []Error
		s.validate(not, v, path, &e, refs)
		if len(e) == 0 {
			fail("%s matches a schema it must not match", describe(v))
		}
	}
	if cond, ok := n["if"]; ok {
		var e []Error
		s.validate(cond, v, path, &e, refs)
		branch := "then"
		if len(e) > 0 {
			branch = "else"
		}
		if sub, ok := n[branch]; ok {
			s.validate(sub, v, path, errs, refs)
		}
	}
}

func (s *Schema) object(n, v map[string]any, path string, errs *[]Error, fail func(string, ...any)) {
	if req, ok := n["required"].([]any); ok {
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				fail("missing property %q", r)
			}
		}
	}
	if m, ok := n["minProperties"].(float64); ok && float64(len(v)) < m {
		fail("has %d properties, fewer than %g", len(v), m)
	}
	if m, ok := n["maxProperties"].(float64); ok && float64(len(v)) > m {
		fail("has %d properties, more than %g", len(v), m)
	}
	props, _ := n["properties"].(map[string]any)
	patterns, _ := n["patternProperties"].(map[string]any)
	additional, hasAdditional := n["additionalProperties"]
	names, hasNames := n["propertyNames"]
	for _, k := range sortedKeys(v) {
		p := path + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
		if hasNames {
			s.validate(names, k, p, errs, 0)
		}
		matched := false
		if sub, ok := props[k]; ok {
			matched = true
			s.validate(sub, v[k], p, errs, 0)
		}
		for _, pat := range sortedKeys(patterns) {
			if s.patterns[pat].MatchString(k) {
				matched = true
				s.validate(patterns[pat], v[k], p, errs, 0)
			}
		}
		if !matched && hasAdditional {
			if additional == false {
				*errs = append(*errs, Error{p, fmt.Sprintf("property %q is not allowed", k)})
			} else {
				s.validate(additional, v[k], p, errs, 0)
			}
		}
	}
}

func hasType(t, v any) bool {
	switch t := t.(type) {
	case string:
		switch t {
		case "object":
			_, ok := v.(map[string]any)
			return ok
		case "array":
			_, ok := v.([]any)
			return ok
		case "string":
			_, ok := v.(string)
			return ok
		case "number":
			_, ok := v.(float64)
			return ok
		case "integer":
			f, ok := v.(float64)
			return ok && !math.IsInf(f, 0) && f == math.Trunc(f)
		case "boolean":
			_, ok := v.(bool)
			return ok
		case "null":
			return v == nil
		}
	case []any:
		return slices.ContainsFunc(t, func(x any) bool { return hasType(x, v) })
	}
	return false
}

func typeString(t any) string {
	if l, ok := t.([]any); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = x.(string)
		}
		return strings.Join(parts, " or ")
	}
	return t.(string)
}

// equal is JSON equality: numbers by value, objects by keys and values.
func equal(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			y, ok := b[k]
			if !ok || !equal(x, y) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// describe renders a value briefly for a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func joinErrors(errs []Error) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
