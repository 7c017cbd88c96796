// Command arbor validates supervision-tree specs and generates their Go code.
//
// Usage:
//
//	arbor generate [-o file] SPEC...   write SPEC's generated code beside it
//	arbor validate SPEC...             print every error of each SPEC
//	arbor version                      print arbor's version
//
// generate writes the code of x.arbor.yaml to x_arbor.go in the same
// directory (or to -o, with one spec), atomically, and writes nothing for a
// spec with errors, so a good generated file is never replaced by a bad
// one. The generated file's package is the spec's package: key, else
// $GOPACKAGE, which go generate sets:
//
//	//go:generate go run github.com/arborgo/arbor/cmd/arbor generate x.arbor.yaml
//
// Errors are printed one per line as "file:line:col: message". The exit
// status is 0 on success, 1 when a spec has errors or a file cannot be read
// or written, and 2 for a usage error.
package main
