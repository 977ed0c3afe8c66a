package commformer

import (
	"runtime"
	"testing"
	"weak"

	"gorgonia.org/tensor"
)

// trainedGraphs trains a trainer for two iterations and returns weak
// pointers to every compiled graph it built (the trainer itself goes out of
// scope with this frame).
func trainedGraphs(t *testing.T, dt tensor.Dtype) []weak.Pointer[trainGraph] {
	t.Helper()
	cfg := tinyConfig()
	cfg.Gate = true
	tr, err := newTrainer(&signalEnv{Len: 3}, cfg, 5, dt)
	if err != nil {
		t.Fatal(err)
	}
	iterate(t, tr, 2)
	var ws []weak.Pointer[trainGraph]
	for _, tg := range tr.train {
		ws = append(ws, weak.Make(tg))
	}
	if len(ws) == 0 {
		t.Fatal("the trainer compiled no training graph")
	}
	return ws
}

// TestTrainerIsCollected: once a trainer is unreachable, its compiled
// graphs (machines, op buffers: most of a run's memory) are freed. A sweep
// runs many trials in one process; before attention.NewMachine every
// trial's graphs stayed alive (a 24-trial predator-prey sweep reached
// 12.8 GB), and this test failed.
func TestTrainerIsCollected(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		ws := trainedGraphs(t, dt)
		runtime.GC()
		runtime.GC()
		for i, w := range ws {
			if w.Value() != nil {
				t.Errorf("%v: training graph %d is still alive after the trainer was dropped", dt, i)
			}
		}
	}
}
