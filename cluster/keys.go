package cluster

import "strings"

// The layout of arbor's keys in etcd, under the cluster's prefix
// P = /arbor/<cluster>/:
//
//	P/nodes/<node>                  node info; the node's lease
//	P/apps/<app>/nodes/<node>       a node that runs the app's standby; its lease
//	P/apps/<app>/owner              the node running the app; its lease; create revision = token
//	P/apps/<app>/takeover           a higher-priority node asking for the app; its lease
//	P/apps/<app>/handoff            the payload of a takeover, from the old owner to the new
//	P/apps/<app>/last               the node the app last ran on (durable)
//	P/sup/<sup>/nodes/<node>        a node that runs the supervisor's local part; its lease
//	P/sup/<sup>/spec/<key>          a keyed child's desired state (durable)
//	P/sup/<sup>/owner/<key>         the node running it; its lease; create revision = token
//
// The desired state of a keyed child and its placement are separate keys:
// the first outlives any node, the second dies with its node's lease, and
// that is what makes "no child lost" hold.
type keys struct{ prefix string }

func newKeys(cluster string) keys { return keys{prefix: "/arbor/" + cluster + "/"} }

func (k keys) nodes() string           { return k.prefix + "nodes/" }
func (k keys) node(name string) string { return k.nodes() + name }
func (k keys) apps() string            { return k.prefix + "apps/" }
func (k keys) app(name string) string  { return k.apps() + name + "/" }
func (k keys) sup(name string) string  { return k.prefix + "sup/" + name + "/" }

// lastSegment returns what follows the last slash of key.
func lastSegment(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }
