package cluster

import (
	"slices"
	"testing"
	"time"
)

// An application runs on the first live node of its list, and fails over
// to the next when that node crashes.
func TestAppFailover(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, nil)
	nodes := [][]string{{"a"}, {"b", "c"}}
	a, b := c.node("a"), c.node("b")
	startApps(t, a, a.Distributed(c.takeoverSpec(a, "billing", nodes)))
	startApps(t, b, b.Distributed(c.takeoverSpec(b, "billing", nodes)))
	c.story.waitFor(t, 5*time.Second, "billing on a", func(es []entry) bool {
		return slices.Equal(running(es)["billing"], []string{"a"})
	})
	a.crash()
	killed := time.Now()
	es := c.story.waitFor(t, 5*time.Second, "billing on b", func(es []entry) bool {
		return slices.Equal(running(es)["billing"], []string{"b"})
	})
	last := es[len(es)-1]
	for _, e := range es {
		if e.what == "start" && e.node == "b" {
			last = e
		}
	}
	if last.st.Kind != Failover || last.st.From != "a" {
		t.Errorf("b started billing with %v; want failover from a", last.st)
	}
	t.Logf("failover took %v", last.at.Sub(killed))
}
