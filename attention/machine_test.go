package attention

import (
	"runtime"
	"testing"
	"weak"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// readHolder has the shape of every compiled graph of the trainer: the
// machine next to a value its graph reads, so the machine's read op points
// into the struct that holds the machine (a reference cycle).
type readHolder struct {
	vm   G.VM
	out  G.Value
	data []float64 // large enough that a leak would show in the heap too
}

func buildReadHolder(t *testing.T, newVM func(*G.ExprGraph, ...G.VMOpt) G.VM) weak.Pointer[readHolder] {
	t.Helper()
	h := &readHolder{data: make([]float64, 1<<16)}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))))
	y := G.Must(G.Square(x))
	G.Read(y, &h.out)
	h.vm = newVM(g)
	if err := h.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := h.out.Data().([]float64)[3]; got != 16 {
		t.Fatalf("read %v, want 16", got)
	}
	return weak.Make(h)
}

// TestNewMachineIsCollected checks that a machine whose graph reads into
// the struct holding it is freed once the struct is unreachable. With
// G.NewTapeMachine in place of NewMachine the struct is never freed (the
// finalizer keeps the cycle alive), and this test fails.
func TestNewMachineIsCollected(t *testing.T) {
	ws := make([]weak.Pointer[readHolder], 3)
	for i := range ws {
		ws[i] = buildReadHolder(t, NewMachine)
	}
	// Two cycles: one would do for objects without finalizers; the second
	// lets any finalizer that still ran release what it kept.
	runtime.GC()
	runtime.GC()
	for i, w := range ws {
		if w.Value() != nil {
			t.Errorf("machine %d and its graph are still alive after GC: something keeps the cycle reachable", i)
		}
	}
}
