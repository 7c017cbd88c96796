// Package golden holds the golden cases of the spec language's cluster
// part, which generate code that imports the cluster module and so compile
// here, in the cluster module, rather than in the root module's golden/:
// one folder per case, each with a spec.arbor.yaml, the spec_arbor.go
// expected from it and its drawings (spec.mmd, spec.dot), compiled and run
// with the user code beside it. testdata/gocheck holds specs whose Go code
// has mistakes, each with the errors arbor generate gives. golden_test.go
// runs them all, and checks that the generated files of the module's
// examples are fresh; -update rewrites the expected files.
package golden
