// Package schema holds the JSON Schema of arbor's spec language, which
// "arbor schema" prints for editors: with it, yaml-language-server (VS Code's
// YAML extension, Neovim, Helix, JetBrains IDEs) completes keys and values,
// shows their documentation and marks mistakes as they are typed.
//
// The schema is JSON Schema draft-07, the draft yaml-language-server
// supports fully. It describes the shape of a spec: every key, its type,
// enums, defaults, the pattern of names and functions, and
// additionalProperties false everywhere (top-level x- keys excepted). What a
// schema cannot say — that a ref names an earlier sibling, that supervisors
// do not nest in a cycle, that two names do not generate one Go identifier —
// is arbor validate's. The tests check every golden spec against the schema,
// and that every spec the parser accepts, the schema accepts, so the two
// cannot drift apart.
//
// The package holds no state; JSON returns a fresh copy.
package schema

import (
	_ "embed"
)

// schemaJSON is a string, which cannot change, so that the package has no
// mutable state.
//
//go:embed arbor.schema.json
var schemaJSON string

// Draft is the JSON Schema draft the schema follows.
const Draft = "http://json-schema.org/draft-07/schema#"

// JSON returns the schema, a JSON document.
func JSON() []byte {
	return []byte(schemaJSON)
}
