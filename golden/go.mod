module github.com/arborgo/arbor/golden

go 1.26

require (
	github.com/arborgo/arbor v0.0.0
	go.uber.org/goleak v1.3.0
)

replace github.com/arborgo/arbor => ../
