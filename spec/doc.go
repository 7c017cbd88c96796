// Package spec reads arbor's YAML spec language into a validated, typed model.
//
// Parse reads one spec file. It uses the node API of go.yaml.in/yaml/v3, so
// every value of the model keeps the file, line and column it came from, and
// it reports every problem it finds at once: the error it returns is an
// ErrorList, sorted by position, whose lines read "file:line:col: message".
// Validate checks a model built by hand, or re-checks a parsed one, with the
// same rules.
//
// The model is plain data: the package holds no state between calls, and a
// Spec is safe for concurrent reads. Defaults are resolved when a spec is
// parsed, so a parsed Spec holds every value explicitly; a value that came
// from the file has a valid Pos, a default has the zero Pos.
//
// Parse is for input from anyone: it never panics, and it refuses hostile
// input early and in bounded time and memory. A file larger than MaxSize,
// with more than MaxSeparators YAML separators, that is not UTF-8 or holds
// characters YAML does not allow is refused before the YAML is parsed;
// aliases may add at most MaxAliasExpansion nodes; at most MaxErrors errors
// are listed. Values from the file are quoted in messages with everything
// but printable ASCII escaped.
//
// docs/spec.md is the reference of the language: every key, its default, and
// every error.
package spec
