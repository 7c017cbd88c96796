package spec_test

import (
	"fmt"

	"github.com/arborgo/arbor/spec"
)

func ExampleParse() {
	s, err := spec.Parse("tree.arbor.yaml", []byte(`
version: 1
supervisors:
  tree:
    strategy: one_for_all
    children:
      - {id: db, start: NewDB, shutdown: 10s}
      - {id: web, start: NewWeb, args: [{ref: db}, 8080]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range s.Supervisors[0].Children {
		fmt.Println(c.ID.Val, c.Start.Val, c.Restart.Val, c.Shutdown.Val, c.ID.Pos)
	}
	// Output:
	// db NewDB permanent 10s tree.arbor.yaml:7:14
	// web NewWeb permanent 5s tree.arbor.yaml:8:14
}

func ExampleParse_errors() {
	_, err := spec.Parse("tree.arbor.yaml", []byte(`
version: 1
supervisors:
  tree:
    stratgy: one_for_all
    max_seconds: 0
    children:
      - {id: web, start: NewWeb, restart: always}
`))
	fmt.Println(err)
	// Output:
	// tree.arbor.yaml:5:5: unknown key "stratgy" in supervisor "tree"; did you mean "strategy"?
	// tree.arbor.yaml:6:18: max_seconds 0 is invalid; allowed: an integer from 1 to 2147483647
	// tree.arbor.yaml:8:43: restart "always" is invalid; allowed: permanent, transient, temporary
}
