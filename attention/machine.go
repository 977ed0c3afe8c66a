package attention

import (
	"runtime"

	G "gorgonia.org/gorgonia"
)

// NewMachine compiles g into a gorgonia TapeMachine that the garbage
// collector can free. Use it instead of G.NewTapeMachine.
//
// G.NewTapeMachine sets a finalizer on the machine (a no-op in a build
// without CUDA). A graph built with G.Read(node, &s.field) points into s
// through its read op, so when s also holds the machine (the usual shape:
// a struct with the machine and the values it reads) the machine sits in a
// reference cycle; Go never collects a cycle that contains an object with a
// finalizer (runtime.SetFinalizer's documentation), so the machine, its
// graph and every buffer of its ops stayed alive for the life of the
// process: a sweep running trials in one process grew by each trial's
// model (12.8 GB after 24 predator-prey trials). Without the finalizer the
// cycle is ordinary garbage (TestNewMachineIsCollected).
func NewMachine(g *G.ExprGraph, opts ...G.VMOpt) G.VM {
	m := G.NewTapeMachine(g, opts...)
	runtime.SetFinalizer(m, nil)
	return m
}
