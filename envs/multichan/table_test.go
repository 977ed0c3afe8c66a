package multichan

import (
	"slices"
	"sync"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
)

// TestChannelTableShared: Spaces of the same trace share one table, so a
// channel configuration simulated by one is a lookup for the other, with
// the simulator's numbers bit for bit; a different trace has its own
// table; concurrent evaluations of the same configurations agree.
func TestChannelTableShared(t *testing.T) {
	a, err := New([]string{"random", "stream"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New([]string{"stream"})
	if err != nil {
		t.Fatal(err)
	}
	if a.tables[1] != b.tables[0] || a.tables[0] == a.tables[1] {
		t.Fatal("the stream channel's tables are not shared, or random shares stream's")
	}
	cfg := make([]int, 20)
	cfg[10+dram.KnobScheduler] = 2
	cfg[10+dram.KnobRequestBufferSize] = 5
	idx := channelIndex(cfg[10:])
	m := make([]float64, 3)
	if b.tables[0].get(idx, m) {
		t.Fatal("entry ready before any evaluation")
	}
	if err := a.Evaluate(cfg, m); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 3)
	if !b.tables[0].get(idx, got) {
		t.Fatal("the other space's evaluation did not fill the shared table")
	}
	ch, err := dram.NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 3)
	if err := ch.Evaluate(cfg[10:], want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("table %v, simulator %v", got, want)
	}
	// Concurrent first evaluations of the same designs: identical results.
	var wg sync.WaitGroup
	res := make([][]float64, 8)
	for g := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]int, 20)
			c[dram.KnobArbiter] = 1
			c[10+dram.KnobPagePolicy] = 3
			res[g] = make([]float64, 3)
			if err := a.Evaluate(c, res[g]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for g := range res {
		if !slices.Equal(res[g], res[0]) {
			t.Fatalf("goroutine %d: %v, goroutine 0: %v", g, res[g], res[0])
		}
	}
	tr := *ch.Trace()
	tr.Requests = slices.Clone(tr.Requests)
	if traceKey(&tr) != traceKey(ch.Trace()) {
		t.Error("same requests, different keys")
	}
	tr.Requests[3].Addr ^= 64
	if traceKey(&tr) == traceKey(ch.Trace()) {
		t.Error("different requests, same key")
	}
}
