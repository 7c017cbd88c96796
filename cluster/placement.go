package cluster

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// rendezvous ranks nodes for key by highest random weight: every node
// computes the same order from the same members, and removing a node moves
// only the keys it ranked first. It returns the nodes, best first.
func rendezvous(key string, nodes []string) []string {
	type scored struct {
		node  string
		score uint64
	}
	s := make([]scored, len(nodes))
	for i, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(key))
		s[i] = scored{n, mix(h.Sum64())}
	}
	slices.SortFunc(s, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.node
	}
	return out
}

// mix is a 64-bit finalizer (splitmix64's), spreading FNV's output.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// priority is an application's node list: groups of equals, best first.
type priority [][]string

// rank returns the index of node's group, or -1 if node is not listed.
func (p priority) rank(node string) int {
	for i, g := range p {
		if slices.Contains(g, node) {
			return i
		}
	}
	return -1
}

// choose returns the node that should run the application among live: the
// first group with a live node; within it the node running the fewest
// distributed applications (OTP's rule), then the first by name.
func (p priority) choose(live map[string]bool, load func(string) int) string {
	for _, g := range p {
		best, bestLoad := "", 0
		for _, n := range g {
			if !live[n] {
				continue
			}
			l := load(n)
			if best == "" || l < bestLoad || (l == bestLoad && n < best) {
				best, bestLoad = n, l
			}
		}
		if best != "" {
			return best
		}
	}
	return ""
}
