// Package gocheck checks a spec against the Go code it names, before any
// code is generated: that every start function exists, takes the arguments
// the spec passes, in order and of fitting types, and returns a service and
// an error; that the types of every extra argument, dependency and registry
// exist; that the keys and values children register with fit their
// registries, and each listener has the method that makes it one; that an
// application's callbacks take what the spec passes; that the generated
// file's names are free in its package; in a cluster, that each cluster
// supervisor's key type can be a key and its extra arguments can travel
// through etcd (the rules of the cluster module's CheckArgs, on the Go
// types), that its template's start function takes the key, and that a
// distributed application's handoff returns ([]byte, error). Each mistake is a spec.Error at the
// position in the spec of what is wrong, in plain words:
//
//	tree.arbor.yaml:12:16: start NewTicker of child "ticker" takes (ctx, time.Duration, string): 2 arguments after ctx; the spec passes 1: an integer
//
// It also refuses what the compiler would accept with another meaning than
// the spec's: an integer, or a float, passed to a parameter with a unit
// (time.Duration, or a type of the package defined as one), where Go would
// read 1000 as a thousand nanoseconds; the message gives the literal with
// its unit.
//
// Check loads the package of the generated file without that file (which is
// about to be replaced), from its source, with the export data of the
// packages it imports, which it gets from the go command (go list -export):
// the go command must be on the PATH, and the package inside a module. It
// uses nothing but the standard library. When the package cannot be loaded,
// Check returns an error that says why, and no spec errors: the compiler
// still checks the generated code then.
//
// The package holds no state; Check is safe for concurrent use.
package gocheck
