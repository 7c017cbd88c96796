package jsonschema

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustCompile(t *testing.T, doc string) *Schema {
	t.Helper()
	s, err := Compile([]byte(doc))
	if err != nil {
		t.Fatalf("Compile(%s): %v", doc, err)
	}
	return s
}

func value(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return v
}

// TestKeywords checks each keyword with values that pass and values that
// fail it.
func TestKeywords(t *testing.T) {
	for _, tc := range []struct {
		schema     string
		pass, fail []string
	}{
		{`true`, []string{`1`, `null`}, nil},
		{`false`, nil, []string{`1`, `null`}},
		{`{"type": "integer"}`, []string{`1`, `1.0`, `-5`}, []string{`1.5`, `"1"`, `null`}},
		{`{"type": ["string", "null"]}`, []string{`"a"`, `null`}, []string{`1`, `[]`}},
		{`{"type": "object"}`, []string{`{}`}, []string{`[]`, `"x"`}},
		{`{"type": "array"}`, []string{`[]`}, []string{`{}`}},
		{`{"type": "number"}`, []string{`1`, `1.5`}, []string{`true`}},
		{`{"type": "boolean"}`, []string{`false`}, []string{`0`}},
		{`{"const": 1}`, []string{`1`, `1.0`}, []string{`2`, `"1"`}},
		{`{"const": {"a": [1, "x"]}}`, []string{`{"a": [1, "x"]}`}, []string{`{"a": [1]}`, `{"a": [1, "x"], "b": 1}`}},
		{`{"enum": ["a", 2, null]}`, []string{`"a"`, `2`, `null`}, []string{`"b"`, `false`}},
		{`{"pattern": "^a+$"}`, []string{`"aaa"`, `5`}, []string{`"ab"`, `""`}},
		{`{"pattern": "b"}`, []string{`"abc"`}, []string{`"ac"`}},
		{`{"minLength": 2, "maxLength": 3}`, []string{`"ab"`, `"é☃x"`}, []string{`"a"`, `"abcd"`}},
		{`{"minimum": 1, "maximum": 3}`, []string{`1`, `3`}, []string{`0.5`, `4`}},
		{`{"exclusiveMinimum": 1, "exclusiveMaximum": 3}`, []string{`2`}, []string{`1`, `3`}},
		{`{"items": {"type": "string"}, "minItems": 1, "maxItems": 2}`, []string{`["a"]`, `["a", "b"]`}, []string{`[]`, `[1]`, `["a", "b", "c"]`}},
		{`{"uniqueItems": true}`, []string{`[1, 2]`, `[1, "1"]`}, []string{`[1, 1.0]`, `[{"a": 1}, {"a": 1}]`}},
		{`{"required": ["a"], "minProperties": 1, "maxProperties": 2}`, []string{`{"a": 1}`, `{"a": 1, "b": 2}`}, []string{`{}`, `{"b": 1}`, `{"a": 1, "b": 2, "c": 3}`}},
		{`{"properties": {"a": {"type": "string"}}, "additionalProperties": false}`, []string{`{}`, `{"a": "x"}`}, []string{`{"a": 1}`, `{"b": 1}`}},
		{`{"patternProperties": {"^x-": true}, "additionalProperties": {"type": "integer"}}`, []string{`{"x-a": "s", "b": 1}`}, []string{`{"b": "s"}`}},
		{`{"propertyNames": {"pattern": "^[a-z]+$"}}`, []string{`{"ab": 1}`}, []string{`{"a1": 1}`}},
		{`{"allOf": [{"minimum": 1}, {"maximum": 2}]}`, []string{`1.5`}, []string{`0`, `3`}},
		{`{"anyOf": [{"type": "string"}, {"minimum": 5}]}`, []string{`"x"`, `6`}, []string{`4`}},
		{`{"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}`, []string{`{"a": 1}`, `{"b": 1}`}, []string{`{}`, `{"a": 1, "b": 1}`}},
		{`{"not": {"enum": ["_"]}}`, []string{`"a"`}, []string{`"_"`}},
		{`{"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}`, []string{`{"a": 1, "b": 1}`, `{"c": 1}`}, []string{`{"a": 1}`, `{}`}},
		{`{"definitions": {"n": {"type": "string"}}, "properties": {"x": {"$ref": "#/definitions/n"}}}`, []string{`{"x": "s"}`}, []string{`{"x": 1}`}},
		{`{"properties": {"next": {"$ref": "#"}}, "required": ["v"]}`, []string{`{"v": 1, "next": {"v": 2}}`}, []string{`{"v": 1, "next": {}}`}},
	} {
		s := mustCompile(t, tc.schema)
		for _, v := range tc.pass {
			if errs := s.Validate(value(t, v)); len(errs) > 0 {
				t.Errorf("schema %s rejects %s: %v", tc.schema, v, errs)
			}
		}
		for _, v := range tc.fail {
			if errs := s.Validate(value(t, v)); len(errs) == 0 {
				t.Errorf("schema %s accepts %s", tc.schema, v)
			}
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for schema, want := range map[string]string{
		`{"format": "email"}`:                        `unsupported keyword "format"`,
		`{"properties": {"a": {"dependencies": 1}}}`: `#/properties/a: unsupported keyword "dependencies"`,
		`{"$ref": "#/definitions/missing"}`:          `does not resolve`,
		`{"$ref": "other.json#/x"}`:                  `not a pointer into this document`,
		`{"$ref": "#", "type": "string"}`:            `"type" beside $ref`,
		`{"pattern": "("}`:                           `pattern "("`,
		`{"type": "float"}`:                          `unknown type "float"`,
		`{"items": [true, false]}`:                   `tuple validation`,
		`{"anyOf": []}`:                              `not a non-empty list`,
		`3`:                                          `must be an object or a boolean`,
		`{`:                                          `not JSON`,
	} {
		if _, err := Compile([]byte(schema)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%s) = %v, want an error with %q", schema, err, want)
		}
	}
}

func TestErrorPaths(t *testing.T) {
	s := mustCompile(t, `{"properties": {"a/b": {"items": {"type": "string"}}}}`)
	errs := s.Validate(value(t, `{"a/b": ["x", 2]}`))
	if len(errs) != 1 || errs[0].Path != "/a~1b/1" || errs[0].Error() != `/a~1b/1: 2 is not of type string` {
		t.Errorf("errors = %v", errs)
	}
}
