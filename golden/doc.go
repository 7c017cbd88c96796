// Package golden holds arbor's golden cases: one folder per case, each with a
// spec.arbor.yaml and either the spec_arbor.go expected from it (compiled
// here, with the user code beside it) or the errors.txt expected from
// validating it. generate_test.go at the repository root runs them.
package golden
