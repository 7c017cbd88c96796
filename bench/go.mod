module github.com/arborgo/arbor/bench

go 1.26

require (
	github.com/arborgo/arbor v0.0.0
	github.com/thejerf/suture/v4 v4.0.6
)

replace github.com/arborgo/arbor => ../
