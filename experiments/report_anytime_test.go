package experiments_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// writeRegretRun writes a finished design run by hand: rows every 100
// unique evaluations up to evals with regret falling as 1/iteration; with
// exact, the tracker's anytime columns too (regret_at_B from regretAt,
// evals_to_threshold and evals_to_optimum when given).
func writeRegretRun(t *testing.T, root, variant string, seed int64, evals int, exact bool, regretAt map[int]float64, toThr, toOpt float64) string {
	t.Helper()
	dir := filepath.Join(root, variant, fmt.Sprintf("seed-%d", seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := 1; i*100 <= evals; i++ {
		u := i * 100
		row := fmt.Sprintf(`{"iteration":%d,"unique_evals":%d,"regret":%g`, i, u, 0.1/float64(i))
		if exact {
			for _, b := range []int{10, 30, 100, 300, 1000, 3000} {
				if v, ok := regretAt[b]; ok && b <= u {
					row += fmt.Sprintf(`,"regret_at_%d":%g`, b, v)
				}
			}
			if !math.IsInf(toThr, 1) && toThr <= float64(u) {
				row += fmt.Sprintf(`,"evals_to_threshold":%g`, toThr)
			}
			if !math.IsInf(toOpt, 1) && toOpt <= float64(u) {
				row += fmt.Sprintf(`,"evals_to_optimum":%g`, toOpt)
			}
		}
		lines = append(lines, row+"}")
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	sum := experiments.Summary{Name: variant, Variant: variant, Task: "dse", Env: "dram", Seed: seed, Iterations: len(lines),
		Primary: experiments.Primary{Name: "regret", X: "unique_evals"}, Threshold: 0.02}
	b, _ := experiments.EncodeSummary(sum)
	os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "DONE"), []byte("done\n"), 0o644)
	return dir
}

// TestReportAnytime: regret after B evaluations, evaluations to the
// threshold and to the optimum come from the runs' anytime columns (exact),
// from the iteration rows for runs without them (listed as coarse), and as
// the final regret for runs that stopped before B; a run that never got
// there counts as +Inf, not as a dropped run; the profile summary and the
// ablation table's evaluations-to-threshold use the same numbers.
func TestReportAnytime(t *testing.T) {
	root := t.TempDir()
	inf := math.Inf(1)
	// A: exact columns; thresholds at 10, 20, 30 and never; the optimum
	// once, at 50. Seed 4 stops at 500 evaluations.
	for i, c := range []struct {
		thr, opt float64
		evals    int
	}{{10, 50, 3000}, {20, inf, 3000}, {30, inf, 3000}, {inf, inf, 500}} {
		reg := map[int]float64{100: 0.01 * float64(i+1), 300: 0.001 * float64(i+1), 1000: 0, 3000: 0}
		if c.evals < 1000 {
			delete(reg, 1000)
			delete(reg, 3000)
		}
		writeRegretRun(t, root, "A", int64(i+1), c.evals, true, reg, c.thr, c.opt)
	}
	// B: no anytime columns (an older run): rows every 100 evaluations,
	// regret 0.1/iteration, so <= 0.02 first at 500.
	var coarse []string
	for s := int64(1); s <= 4; s++ {
		coarse = append(coarse, writeRegretRun(t, root, "B", s, 1000, false, nil, 0, 0))
	}
	rep, err := experiments.BuildReport(root, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Anytime(nil)
	if a == nil {
		t.Fatal("no anytime view of a regret task")
	}
	ca, cb := a.Cells[[2]string{"A", "dse"}], a.Cells[[2]string{"B", "dse"}]
	if ca == nil || cb == nil {
		t.Fatalf("cells %v", a.Cells)
	}
	if got := ca.ToThr.Values; !slices.Equal(got, []float64{10, 20, 30, inf}) || ca.ToThr.IQM != 25 || ca.ToThr.Finite != 3 {
		t.Errorf("A evals to threshold %v IQM %v finite %d, want [10 20 30 +Inf], 25, 3", got, ca.ToThr.IQM, ca.ToThr.Finite)
	}
	if !math.IsInf(ca.ToOpt.IQM, 1) || ca.ToOpt.Finite != 1 {
		t.Errorf("A evals to optimum IQM %v (finite %d), want +Inf with 1 finite", ca.ToOpt.IQM, ca.ToOpt.Finite)
	}
	// Regret at 100: the columns (0.01 .. 0.04); at 3000 seed 4 (stopped at
	// 500) counts with its final regret 0.1/5.
	if got := ca.Regret[0].Values; !slices.Equal(got, []float64{0.01, 0.02, 0.03, 0.04}) {
		t.Errorf("A regret at 100 %v", got)
	}
	if got := ca.Regret[3].Values; !slices.Equal(got, []float64{0, 0, 0, 0.1 / 5}) {
		t.Errorf("A regret at 3000 %v", got)
	}
	// B from its rows: regret at 300 = the row at 300 (0.1/3); threshold
	// reached at the row of 500 evaluations; never the optimum; at 3000
	// the final regret (stopped at 1000).
	if got := cb.Regret[1].Values; got[0] != 0.1/3 {
		t.Errorf("B regret at 300 %v, want 0.1/3", got)
	}
	if got := cb.ToThr.Values; !slices.Equal(got, []float64{500, 500, 500, 500}) {
		t.Errorf("B evals to threshold %v, want 500 each", got)
	}
	if got := cb.Regret[3].Values; got[0] != 0.1/10 {
		t.Errorf("B regret at 3000 %v, want the final 0.01", got)
	}
	slices.Sort(a.Coarse)
	if !slices.Equal(a.Coarse, coarse) {
		t.Errorf("coarse runs %v, want %v", a.Coarse, coarse)
	}
	// Fractions within the threshold at 100/300/1000/3000: A 3 of 4 from
	// 100 on; B 0 at 100 and 300, all from 1000 on. A wins the task.
	if got := a.Solved["A"]; !slices.Equal(got, []float64{0.75, 0.75, 0.75, 0.75}) {
		t.Errorf("A solved %v", got)
	}
	if got := a.Solved["B"]; !slices.Equal(got, []float64{0, 0, 1, 1}) {
		t.Errorf("B solved %v", got)
	}
	if a.Wins["A"] != 1 || a.Wins["B"] != 0 {
		t.Errorf("wins %v", a.Wins)
	}
	// The ablation table: A's evaluations to threshold are the exact ones.
	if c := rep.Cells[[2]string{"A", "dse"}]; c.Reached != 3 || !slices.Equal(c.ToThr, []float64{10, 20, 30}) {
		t.Errorf("ablation cell A reached %d %v", c.Reached, c.ToThr)
	}
	var md, csv bytes.Buffer
	if err := a.Write(&md, "md"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.025 [0.01, 0.04]", "25 [10, never] (3/4)", "never", "(3/4)", "(1/4)", "4 runs have no anytime columns"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("anytime table lacks %q:\n%s", want, md.String())
		}
	}
	if err := a.Write(&csv, "csv"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(csv.String(), "\n"); n != 1+2*(4+2) {
		t.Errorf("anytime CSV has %d lines, want 13:\n%s", n, csv.String())
	}
	for _, opt := range []bool{false, true} {
		p := filepath.Join(root, fmt.Sprintf("profile-%v.png", opt))
		if err := a.PlotProfile(p, opt); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(p); err != nil || fi.Size() < 1000 {
			t.Errorf("profile plot %s: %v", p, err)
		}
	}
	// Only regret tasks have an anytime view.
	other := t.TempDir()
	writeSyntheticRun(t, other, "A", "easy", 1, 3)
	rep2, err := experiments.BuildReport(other, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Anytime(nil) != nil {
		t.Error("an anytime view of a task not judged by regret")
	}
}

// TestAnytimeVersus: one variant against the fewest other on each regret
// task: fewest or not (ties count), inside that one's CI or not, the ratio;
// a task the variant did not run is left out; an unknown variant is an error
// naming the variants; the table's count line and the CSV agree.
func TestAnytimeVersus(t *testing.T) {
	root := t.TempDir()
	inf := math.Inf(1)
	runs := map[string]map[string][]float64{ // task -> variant -> evals to threshold per seed
		"t1": {"A": {10, 20, 30, 40}, "B": {5, 6, 7, 8}, "C": {100, 100, 100, 100}},     // A neither fewest nor inside B's CI
		"t2": {"A": {5, 5, 6, 6}, "B": {6, 7, 8, 9}, "C": {inf, inf, inf, inf}},         // A fewest (and so inside)
		"t3": {"A": {10, 12, 14, 16}, "B": {2, 3, 20, 30}, "C": {50, 60, 70, 80}},       // A not fewest (13 > 11.5), inside B's wide CI
		"t4": {"A": {7, 7, 7, 7}, "B": {7, 7, 7, 7, 7}},                                 // a tie counts as fewest; B has a fifth run
		"t5": {"B": {1, 2, 3, 4}, "C": {4, 5, 6, 7}},                                    // A did not run: no row
		"t6": {"A": {inf, inf, inf, inf}, "B": {inf, inf, inf, 9}, "C": {1, 1, 1, inf}}, // never against C's 1: ratio +Inf, inside C's [1, never]
	}
	for task, vs := range runs {
		for v, thr := range vs {
			for i, x := range thr {
				dir := writeRegretRun(t, root, v+"-"+task, int64(i+1), 3000, true, map[int]float64{100: 0.1}, x, inf)
				sum := experiments.Summary{Name: v, Variant: v, Task: task, Env: "dram", Seed: int64(i + 1), Iterations: 30,
					Primary: experiments.Primary{Name: "regret", X: "unique_evals"}, Threshold: 0.02}
				b, _ := experiments.EncodeSummary(sum)
				if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	rep, err := experiments.BuildReport(root, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Anytime(nil)
	rows, err := a.Versus("A")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		best           string
		fewest, inside bool
		ratio          float64
	}
	wants := map[string]want{"t1": {"B", false, false, 25 / 6.5}, "t2": {"B", true, true, 5.5 / 7.5}, "t3": {"B", false, true, 13 / 11.5},
		"t4": {"B", true, true, 1}, "t6": {"C", false, true, inf}}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d (t5 has no run of A): %+v", len(rows), len(wants), rows)
	}
	for _, r := range rows {
		w, ok := wants[r.Task]
		if !ok {
			t.Errorf("unexpected row %+v", r)
			continue
		}
		if r.Best != w.best || r.Fewest != w.fewest || r.Inside != w.inside || math.Abs(r.Ratio-w.ratio) > 1e-12 && r.Ratio != w.ratio {
			t.Errorf("%s: best %s fewest %v inside %v ratio %v, want %+v (own %+v, best %+v)", r.Task, r.Best, r.Fewest, r.Inside, r.Ratio, w, r.Own, r.BestIn)
		}
	}
	// t3's verdict rests on the interval: B's upper bound is above A's IQM.
	for _, r := range rows {
		if r.Task == "t3" && !(r.BestIn.Hi >= 13 && r.BestIn.IQM == 11.5) {
			t.Errorf("t3: B's interval %+v", r.BestIn)
		}
	}
	if _, err := a.Versus("Z"); err == nil || !strings.Contains(err.Error(), `"A", "B", "C"`) {
		t.Errorf("unknown variant: %v", err)
	}
	var md, csv bytes.Buffer
	if err := a.WriteVersus(&md, "md", "A"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "A has the fewest on 2 of 5 tasks and is at or inside the fewest other's CI on 4 of 5.") {
		t.Errorf("versus table:\n%s", md.String())
	}
	if err := a.WriteVersus(&csv, "csv", "A"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "4 / 5") || strings.Count(md.String(), "4 / 4") != 4 {
		t.Errorf("versus table without the runs of each side (4 / 5 on t4, 4 / 4 elsewhere):\n%s", md.String())
	}
	if n := strings.Count(csv.String(), "\n"); n != 1+5 || strings.Count(csv.String(), ",yes,yes,") != 2 || !strings.Contains(csv.String(), ",yes,yes,4,5\n") {
		t.Errorf("versus CSV:\n%s", csv.String())
	}
}
