// Command arbor validates supervision-tree specs, generates their Go code,
// checks that generated code is up to date, draws the trees and prints the
// JSON Schema of the spec language.
//
// Usage:
//
//	arbor generate [-o file] SPEC...           check SPEC, write its generated code beside it
//	arbor validate SPEC...                     print every error of each SPEC
//	arbor check [-o file] SPEC|DIR|PATTERN...  fail, with a diff, on stale generated code
//	arbor graph [--format mermaid|dot] SPEC    draw SPEC's tree
//	arbor schema                               print the JSON Schema of the spec language
//	arbor version                              print arbor's version
//
// generate writes the code of x.arbor.yaml to x_arbor.go in the same
// directory (or to -o, with one spec), atomically, and writes nothing for a
// spec with errors, so a good generated file is never replaced by a bad
// one. Before writing, it checks the spec against the Go code of the
// package (package gocheck), and reports a start function or an argument
// that does not fit at the spec's line; --typecheck=false skips that. It
// overwrites only a file it generated, never a spec, nothing when two specs
// share an output, and removes its temporary file on SIGINT or SIGTERM. The
// generated file's package is the spec's package: key, else that of the Go
// files beside it, else that of the file it replaces, else $GOPACKAGE,
// which go generate sets:
//
//	//go:generate go run github.com/arborgo/arbor/cmd/arbor generate x.arbor.yaml
//
// check regenerates in memory and prints a unified diff for each generated
// file that differs from what generate would write; "arbor check ./..."
// checks every spec below the current directory.
//
// Errors are printed one per line as "file:line:col: message". The exit
// status is 0 on success, 1 when a spec has errors or a file cannot be read
// or written, and 2 for a usage error; check exits 0 when everything is up
// to date, 1 when a generated file is stale or missing, and 2 on any error.
// docs/cli.md describes every command.
package main
