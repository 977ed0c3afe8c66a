package experiments_test

import (
	"encoding/csv"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// writeDesignRun writes a finished design-space run by hand: its best
// design has time_ns = time, energy_pJ = energy and objective time (regret
// against an optimum of 1 time unit), found at unique evaluation found.
func writeDesignRun(t *testing.T, root, variant string, seed int64, time, energy float64, found int) {
	t.Helper()
	dir := filepath.Join(root, variant, fmt.Sprintf("seed-%d", seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	reg := time - 1
	it, gain := 2, (10-time)/10
	rows := fmt.Sprintf(`{"iteration":1,"unique_evals":%d,"best_value":10,"regret":9}`+"\n"+`{"iteration":2,"unique_evals":%d,"best_value":%g,"regret":%g}`+"\n", found/2, found, time, reg)
	sum := experiments.Summary{Name: variant, Variant: variant, Task: "space", Env: "grid", Seed: seed, Iterations: 2,
		Primary: experiments.Primary{Name: "regret", X: "unique_evals"}, Threshold: 0,
		Best: &experiments.Design{Names: []string{"k"}, Knobs: map[string]string{"k": fmt.Sprint(seed)}, Objective: time, Unit: "ns", Regret: &reg,
			Metrics: map[string]float64{"time_ns": time, "energy_pJ": energy},
			Outcome: experiments.Outcome{FoundAtIteration: &it, FoundAtEvaluation: &found, GainOverStart: &gain}}}
	b, err := experiments.EncodeSummary(sum)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"metrics.jsonl": rows, "summary.json": string(b), "DONE": "done\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportTables: the best-designs table, the Pareto front of two metrics
// (checked against a front worked out by hand, equal points included), its
// plot, the CSV forms, and the error for a metric no run has.
func TestReportTables(t *testing.T) {
	root := t.TempDir()
	// (time, energy): A1 (1, 10), A2 (2, 5), B1 (3, 6) dominated by A2,
	// B2 (4, 1), B3 (2, 5) equal to A2, C1 (5, 5) dominated by A2.
	writeDesignRun(t, root, "A", 1, 1, 10, 10)
	writeDesignRun(t, root, "A", 2, 2, 5, 30)
	writeDesignRun(t, root, "B", 1, 3, 6, 40)
	writeDesignRun(t, root, "B", 2, 4, 1, 50)
	writeDesignRun(t, root, "B", 3, 2, 5, 60)
	writeDesignRun(t, root, "C", 1, 5, 5, 70)
	rep, err := experiments.BuildReport(root, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := rep.Pareto("time_ns", "energy_pJ")
	if err != nil {
		t.Fatal(err)
	}
	var front []string
	for _, pt := range p.Front() {
		front = append(front, fmt.Sprintf("%s%d", pt.Variant, pt.Seed))
	}
	if got := strings.Join(front, " "); got != "A1 A2 B3 B2" || len(p.Points) != 6 {
		t.Errorf("front %q of %d points, want \"A1 A2 B3 B2\" of 6", got, len(p.Points))
	}
	// The "best_" prefix of the metrics columns is accepted too.
	if p2, err := rep.Pareto("best_time_ns", "energy_pJ"); err != nil || len(p2.Front()) != 4 {
		t.Errorf("best_time_ns: %v", err)
	}
	if _, err := rep.Pareto("time_ns", "latency_p99"); err == nil || !strings.Contains(err.Error(), "energy_pJ") || !strings.Contains(err.Error(), "time_ns") {
		t.Errorf("unknown Pareto metric: %v, want an error listing the metrics that exist", err)
	}
	var md strings.Builder
	if err := p.Write(&md, "md"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "4 of 6 runs") || strings.Contains(md.String(), "| C ") {
		t.Errorf("Pareto table:\n%s", md.String())
	}
	var pc strings.Builder
	if err := p.Write(&pc, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(pc.String())).ReadAll()
	if err != nil || len(recs) != 7 || recs[0][3] != "time_ns" || recs[0][5] != "front" {
		t.Fatalf("Pareto CSV (%v):\n%s", err, pc.String())
	}
	png := filepath.Join(root, "pareto.png")
	if err := p.Plot(png); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(png); err != nil {
		t.Fatal(err)
	} else {
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 400 {
			t.Errorf("Pareto PNG: %v", err)
		}
	}

	// Best designs: A's best is seed 1 (time 1, regret 0; 1 of 2 runs at
	// the optimum; found by evaluations 10 and 30, median 20).
	best := rep.BestDesigns()
	if len(best) != 3 {
		t.Fatalf("%d best-design rows, want 3 (A, B, C)", len(best))
	}
	a := best[0]
	if a.Variant != "A" || a.Seed != 1 || a.Objective != 1 || a.Regret != 0 || a.AtOptimum != 1 || a.Runs != 2 || a.FoundAt != 20 || a.Gain != 0.9 || a.Knobs["k"] != "1" {
		t.Errorf("best design of A: %+v", a)
	}
	if b := best[1]; b.Variant != "B" || b.Seed != 3 || b.Objective != 2 || b.AtOptimum != 0 || b.FoundAt != 50 {
		t.Errorf("best design of B: %+v, want seed 3 (time 2), none at the optimum, median found 50", b)
	}
	var bd strings.Builder
	if err := rep.WriteBestDesigns(&bd, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(strings.NewReader(bd.String())).ReadAll()
	if err != nil || len(recs) != 4 || recs[1][0] != "A" || recs[1][7] != "1" || recs[1][8] != "20" {
		t.Errorf("best-designs CSV (%v):\n%s", err, bd.String())
	}

	// The ablation cells as CSV: one line per variant, numbers unformatted.
	var cc strings.Builder
	if err := rep.WriteTable(&cc, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(strings.NewReader(cc.String())).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][5] != "iqm" {
		t.Fatalf("cells CSV (%v):\n%s", err, cc.String())
	}
	// A's regrets are 0 and 1: the IQM of two values is their mean.
	if recs[1][0] != "A" || recs[1][4] != "2" || recs[1][5] != "0.5" {
		t.Errorf("cells CSV row of A: %v", recs[1])
	}
}
