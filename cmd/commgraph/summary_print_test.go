package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// TestPrintSummaryOutcome: the printed summary says when the best was
// found, the start design and the gain over it, the regret and the ties
// (the example: 287,980 -> 75,077.5 ns, iteration 3 of 100,
// evaluations 513-768, 256 designs tie for the optimum).
func TestPrintSummaryOutcome(t *testing.T) {
	it, from, at := 3, 513, 768
	gain := (287980 - 75077.5) / 287980.0
	reg := 0.0
	s := experiments.Summary{Name: "dram_latency", Seed: 1, Iterations: 100, UniqueEvals: 8000,
		Primary: experiments.Primary{Name: "regret"}, Final: map[string]experiments.Num{"regret": 0},
		Best: &experiments.Design{
			Names: []string{"A", "B"}, Knobs: map[string]string{"A": "x", "B": "y"},
			Metrics: map[string]float64{"time_ns": 75077.5}, Objective: 75077.5, Unit: "ns",
			Regret: &reg, OptimumTies: 256,
			Outcome: experiments.Outcome{FoundAtIteration: &it, FoundFromEvaluation: &from, FoundAtEvaluation: &at,
				GainOverStart: &gain, Start: &experiments.Point{Knobs: map[string]string{"A": "p", "B": "q"}, Objective: 287980}},
		}}
	var buf bytes.Buffer
	printSummary(&buf, s)
	out := buf.String()
	for _, want := range []string{
		"found at iteration 3 of 100, among unique evaluations 513-768 of 8000 spent",
		"start design: A=p B=q",
		"gain over the start design: 287980 ns -> 75077.5 ns (73.9% lower, 3.84x)",
		"regret against the exhaustive optimum: 0 (256 designs tie for the optimum)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	zero := 0
	one := 1
	s.Best.Outcome = experiments.Outcome{FoundAtIteration: &zero, FoundFromEvaluation: &one, FoundAtEvaluation: &one}
	buf.Reset()
	printSummary(&buf, s)
	if !strings.Contains(buf.String(), "the start design was already best") {
		t.Errorf("a best start design not said:\n%s", buf.String())
	}
	s.Best.Regret, s.Best.NoOptimum = nil, "the space is too large"
	buf.Reset()
	printSummary(&buf, s)
	if out := buf.String(); !strings.Contains(out, "regret not measured: the space is too large") || strings.Contains(out, "regret against") {
		t.Errorf("an unknown optimum not said:\n%s", out)
	}
}
