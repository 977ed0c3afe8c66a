package dram

import (
	"slices"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

func TestSpaceKnobsAndSize(t *testing.T) {
	s, err := NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "dram/stream" {
		t.Fatalf("name %q", s.Name())
	}
	want := []string{"PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue",
		"RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"}
	var names []string
	var counts []int
	for _, k := range s.Knobs() {
		names = append(names, k.Name)
		counts = append(counts, len(k.Values))
	}
	if !slices.Equal(names, want) {
		t.Fatalf("knobs %v, want %v", names, want)
	}
	if !slices.Equal(counts, []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8}) {
		t.Fatalf("value counts %v", counts)
	}
	if n := envs.Size(s); n != 442368 {
		t.Fatalf("%d configurations, want 442,368", n)
	}
	if m := s.MetricNames(); !slices.Equal(m, []string{"time_ns", "energy_pJ", "power_mW"}) {
		t.Fatalf("metrics %v", m)
	}
}

func TestSpaceRejectsBadConfigurations(t *testing.T) {
	s, _ := NewTraceSpace("stream")
	out := make([]float64, 3)
	for _, cfg := range [][]int{{0, 0}, {4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, -1}} {
		if err := s.Evaluate(cfg, out); err == nil {
			t.Errorf("Evaluate(%v) accepted", cfg)
		}
		if err := s.NewEvaluator()(cfg, out); err == nil {
			t.Errorf("evaluator(%v) accepted", cfg)
		}
	}
	if _, err := NewSpace(&Trace{Name: "empty"}, SpaceOptions{}); err == nil {
		t.Error("empty trace accepted")
	}
	if _, err := NewTraceSpace("no-such-trace"); err == nil {
		t.Error("unknown trace accepted")
	}
}
