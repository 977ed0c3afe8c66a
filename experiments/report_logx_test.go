package experiments

import (
	"math"
	"testing"

	"gonum.org/v1/plot"
)

// TestCurveLogX: curves over unique evaluations get a log axis by default,
// other budget axes a linear one, and ReportOptions.LogX overrides both; a
// log axis drops the points at x <= 0 instead of failing.
func TestCurveLogX(t *testing.T) {
	rows := []Row{{"iteration": 1, "unique_evals": 0, "env_steps": 0, "m": 3}, {"iteration": 2, "unique_evals": 10, "env_steps": 100, "m": 2}, {"iteration": 3, "unique_evals": 1000, "env_steps": 200, "m": 1}}
	rep := &Report{Variants: []string{"A"}, Options: DefaultReportOptions(),
		Runs: []*RunData{{Summary: Summary{Variant: "A", Task: "evals"}, Rows: rows}, {Summary: Summary{Variant: "A", Task: "steps"}, Rows: rows}}}
	evals := TaskInfo{Name: "evals", Metric: "m", X: "unique_evals", Threshold: math.NaN()}
	steps := TaskInfo{Name: "steps", Metric: "m", X: "env_steps", Threshold: math.NaN()}
	isLog := func(ti TaskInfo) bool {
		t.Helper()
		p, drawn, err := rep.curvePlot(ti)
		if err != nil || drawn != 1 {
			t.Fatalf("%s: drawn %d, %v", ti.Name, drawn, err)
		}
		if _, err := p.WriterTo(300, 200, "png"); err != nil { // renders (a log axis panics on x <= 0)
			t.Fatalf("%s: %v", ti.Name, err)
		}
		_, ok := p.X.Scale.(plot.LogScale)
		return ok
	}
	if !isLog(evals) || isLog(steps) {
		t.Error("default: want a log axis for unique_evals only")
	}
	on, off := true, false
	rep.Options.LogX = &on
	if !isLog(steps) {
		t.Error("LogX = true: env_steps axis not log")
	}
	rep.Options.LogX = &off
	if isLog(evals) {
		t.Error("LogX = false: unique_evals axis still log")
	}
}
