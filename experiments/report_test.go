package experiments_test

import (
	"fmt"
	"image"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// writeSyntheticRun writes a finished run directory by hand: a metric
// "eval_length" logged every 1000 env steps that falls linearly from 20 to
// final over 10 evaluations.
func writeSyntheticRun(t *testing.T, root, variant, task string, seed int64, final float64) {
	t.Helper()
	dir := filepath.Join(root, strings.ReplaceAll(variant, " ", "_"), task, fmt.Sprintf("seed-%d", seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := 1; i <= 10; i++ {
		v := 20 + (final-20)*float64(i)/10
		lines = append(lines, fmt.Sprintf(`{"iteration":%d,"env_steps":%d,"eval_length":%g,"loss":%g}`, i, 1000*i, v, 1/float64(i)))
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	// The run name is what `run` would have written this layout under.
	sum := experiments.Summary{Name: strings.ReplaceAll(variant, " ", "_") + "/" + task, Variant: variant, Task: task, Env: "predprey", Seed: seed, Iterations: 10,
		Primary: experiments.Primary{Name: "eval_length", X: "env_steps"}, Threshold: 10}
	b, _ := experiments.EncodeSummary(sum)
	os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "DONE"), []byte("done\n"), 0o644)
}

func TestIQM(t *testing.T) {
	// n = 5: floor(5/4) = 1 value cut at each end -> mean of 2, 3, 4.
	if got := experiments.IQM([]float64{100, 2, 1, 4, 3}); got != 3 {
		t.Errorf("IQM = %v, want 3", got)
	}
	// n = 8: 2 cut at each end -> mean of 3..6 = 4.5.
	if got := experiments.IQM([]float64{1, 2, 3, 4, 5, 6, 7, 800}); got != 4.5 {
		t.Errorf("IQM = %v, want 4.5", got)
	}
	if got := experiments.IQM([]float64{7}); got != 7 {
		t.Errorf("IQM of one value = %v", got)
	}
}

func TestStratifiedBootstrapCI(t *testing.T) {
	x := []float64{1, 2, 3, 4, 100}
	rng := func(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }
	lo, hi := experiments.StratifiedBootstrapCI([][]float64{x}, experiments.IQM, 2000, 0.95, rng(7))
	if !(lo <= 3 && 3 <= hi) || lo < 1 || hi > 100 {
		t.Errorf("CI [%v, %v] does not contain IQM 3 within the data range", lo, hi)
	}
	lo2, hi2 := experiments.StratifiedBootstrapCI([][]float64{x}, experiments.IQM, 2000, 0.95, rng(7))
	if lo != lo2 || hi != hi2 {
		t.Error("bootstrap not reproducible with its seed")
	}
	// Stratification: every resample keeps each stratum's size, so with two
	// constant strata the statistic never varies.
	lo, hi = experiments.StratifiedBootstrapCI([][]float64{{1, 1, 1}, {5, 5}}, experiments.Mean, 500, 0.95, rng(1))
	if lo != 2.6 || hi != 2.6 {
		t.Errorf("stratified CI of constant strata = [%v, %v], want [2.6, 2.6]", lo, hi)
	}
}

func TestReportKnownNumbers(t *testing.T) {
	root := t.TempDir()
	// Variant A: finals 1, 2, 3, 4, 100 (IQM 3); variant B: 12 .. 16 (IQM 14).
	for i, f := range []float64{1, 2, 3, 4, 100} {
		writeSyntheticRun(t, root, "A", "easy", int64(i+1), f)
	}
	for i, f := range []float64{12, 13, 14, 15, 16} {
		writeSyntheticRun(t, root, "B", "easy", int64(i+1), f)
	}
	rep, err := experiments.BuildReport(root, reportOptions(func(o *experiments.ReportOptions) { o.Seed = 3 }))
	if err != nil {
		t.Fatal(err)
	}
	a, b := rep.Cells[[2]string{"A", "easy"}], rep.Cells[[2]string{"B", "easy"}]
	if a == nil || b == nil {
		t.Fatalf("cells: %v", rep.Cells)
	}
	if math.Abs(a.IQM-3) > 1e-12 || math.Abs(b.IQM-14) > 1e-12 {
		t.Errorf("IQM A = %v (want 3), B = %v (want 14)", a.IQM, b.IQM)
	}
	if !(a.Lo <= 3 && 3 <= a.Hi) || !(b.Lo <= 14 && 14 <= b.Hi) {
		t.Errorf("CIs do not contain the IQM: A [%v, %v], B [%v, %v]", a.Lo, a.Hi, b.Lo, b.Hi)
	}
	// Evaluations to threshold 10: final f reaches 10 at step i with
	// 20 + (f-20) i/10 <= 10, i.e. i >= 100/(20-f): A seeds 1..4 at
	// i = 6, 6, 6, 7 (f = 1, 2, 3, 4), seed 5 never; B never.
	if a.Reached != 4 || b.Reached != 0 {
		t.Errorf("reached: A %d (want 4), B %d (want 0)", a.Reached, b.Reached)
	}
	if want := (6000.0 + 6000) / 2; a.ThrIQM != want {
		t.Errorf("A evaluations-to-threshold IQM = %v, want %v (of 6000 6000 6000 7000)", a.ThrIQM, want)
	}
	// Reproducible with the seed, and the seed matters.
	rep2, _ := experiments.BuildReport(root, reportOptions(func(o *experiments.ReportOptions) { o.Seed = 3 }))
	rep3, _ := experiments.BuildReport(root, reportOptions(func(o *experiments.ReportOptions) { o.Seed = 4 }))
	a2, a3 := rep2.Cells[[2]string{"A", "easy"}], rep3.Cells[[2]string{"A", "easy"}]
	if a2.Lo != a.Lo || a2.Hi != a.Hi {
		t.Error("report bootstrap not reproducible with its seed")
	}
	if a3.Lo == a.Lo && a3.Hi == a.Hi && a3.ThrLo == a.ThrLo {
		t.Log("note: seeds 3 and 4 gave identical intervals")
	}
	// Seed 0 is a seed like any other (not "the default"), and bad options
	// are errors.
	rep0, err := experiments.BuildReport(root, reportOptions(func(o *experiments.ReportOptions) { o.Seed = 0 }))
	if err != nil || rep0.Options.Seed != 0 {
		t.Fatalf("seed 0: %v, options %+v", err, rep0.Options)
	}
	for _, bad := range []func(o *experiments.ReportOptions){
		func(o *experiments.ReportOptions) { o.Resamples = 0 },
		func(o *experiments.ReportOptions) { o.Confidence = 1 },
	} {
		if _, err := experiments.BuildReport(root, reportOptions(bad)); err == nil {
			t.Error("bad report options accepted")
		}
	}
	// Tables.
	var md strings.Builder
	if err := rep.WriteTable(&md, "md"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| A ", "3 [", "(n=5)", "(4/5)", "not reached (0/5)", "2000 resamples"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown table lacks %q:\n%s", want, md.String())
		}
	}
	if rep.Aggregate != nil {
		t.Error("aggregate over a single task")
	}
	// A second task with the same metric pools the scores: A's IQM over
	// 1, 2, 3, 4, 100 and 5, 6, 7, 8, 9 (n = 10, 2 cut at each end) is the
	// mean of 3..8 = 5.5; the stratified bootstrap keeps 5 runs per task.
	for i, f := range []float64{5, 6, 7, 8, 9} {
		writeSyntheticRun(t, root, "A", "hard", int64(i+1), f)
		writeSyntheticRun(t, root, "B", "hard", int64(i+1), f)
	}
	repAll, err := experiments.BuildReport(root, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	if agg := repAll.Aggregate["A"]; agg == nil || agg.IQM != 5.5 || !(agg.Lo <= 5.5 && 5.5 <= agg.Hi) {
		t.Errorf("aggregate A = %+v, want IQM 5.5 inside its CI", agg)
	}
	// A metric other than the primary one.
	repLoss, err := experiments.BuildReport(root, reportOptions(func(o *experiments.ReportOptions) { o.Metric = "loss" }))
	if err != nil {
		t.Fatal(err)
	}
	if c := repLoss.Cells[[2]string{"B", "easy"}]; c == nil || math.Abs(c.IQM-0.1) > 1e-15 {
		t.Errorf("loss IQM = %v, want 0.1", c.IQM)
	}
	// marl-eval layout.
	me := rep.MarlEval()
	run0 := me["predprey"].(map[string]any)["easy"].(map[string]any)["A"].(map[string]any)["run_0"].(map[string]any)
	step9 := run0["step_9"].(map[string]any)
	if step9["step_count"].(int64) != 10000 || step9["length"].([]float64)[0] != 1 {
		t.Errorf("marl-eval step_9 = %v", step9)
	}
	if abs := run0["absolute_metrics"].(map[string]any); abs["length"].([]float64)[0] != 1 {
		t.Errorf("absolute_metrics = %v", abs)
	}
	// Learning curves.
	files, err := rep.PlotCurves(filepath.Join(root, "report"))
	if err != nil || len(files) != 1 {
		t.Fatalf("curves: %v %v", files, err)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil || format != "png" || img.Bounds().Dx() < 400 {
		t.Errorf("curve PNG: %v %s %v", err, format, img)
	}
}

func reportOptions(set func(o *experiments.ReportOptions)) experiments.ReportOptions {
	o := experiments.DefaultReportOptions()
	set(&o)
	return o
}
