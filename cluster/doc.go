// Package cluster runs arbor's work across nodes, on etcd.
package cluster
