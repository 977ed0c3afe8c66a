package exhaustive

import (
	"math/rand/v2"
	"testing"
)

// TestDecisionRelevance: on a table where knob 0's best value is knob 1's
// value (a pure decision coupling) and knob 2 only adds a constant, knob 0
// depends on knob 1 in every context where knob 1 changes, on knob 2 in
// none; knob 2's best value (always 0) depends on nobody.
func TestDecisionRelevance(t *testing.T) {
	tab := &Table{Header: Header{Knobs: []KnobInfo{
		{Name: "a", Values: []string{"0", "1", "2"}},
		{Name: "b", Values: []string{"0", "1", "2"}},
		{Name: "c", Values: []string{"0", "1"}},
	}, Metrics: []string{"m"}, Configs: 18}}
	tab.init()
	y := make([]float64, tab.Len())
	for i := range y {
		cfg := tab.Config(i, nil)
		d := float64(cfg[0] - cfg[1])
		y[i] = d*d + 5*float64(cfg[2])
	}
	rel, err := DecisionRelevance(tab, y, 500, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if rel[0][1] != 1 || rel[0][2] != 0 || rel[2][0] != 0 || rel[2][1] != 0 {
		t.Errorf("relevance %v: want a<-b 1, a<-c 0, c<-a 0, c<-b 0", rel)
	}
	if rel[1][0] != 1 { // symmetric coupling: b's best is a's value
		t.Errorf("b<-a = %v, want 1", rel[1][0])
	}
	if _, err := DecisionRelevance(tab, y[:3], 10, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("a short metric column was accepted")
	}
}
