package experiments_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// TestReportPoolsDirs: runs of two directories (two rounds of a study on
// different seeds) are pooled into the same cells, with the IQM over all
// their seeds; a run of the same variant, task and seed twice (a directory
// given twice, or two directories holding the same seed) is refused with
// ErrDuplicateRun naming both runs.
func TestReportPoolsDirs(t *testing.T) {
	tmp := t.TempDir()
	r1, r2 := filepath.Join(tmp, "round1"), filepath.Join(tmp, "round2")
	// A: finals 1..4 in round 1 and 5..8 in round 2: pooled IQM = mean of 3..6 = 4.5.
	for i := range 4 {
		writeSyntheticRun(t, r1, "A", "easy", int64(i+1), float64(i+1))
		writeSyntheticRun(t, r2, "A", "easy", int64(i+11), float64(i+5))
	}
	writeSyntheticRun(t, r2, "B", "easy", 11, 7)
	rep, err := experiments.BuildReportDirs([]string{r1, r2}, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cells[[2]string{"A", "easy"}]
	if c == nil || len(c.Scores) != 8 || c.IQM != 4.5 {
		t.Fatalf("pooled cell A: %+v, want 8 seeds with IQM 4.5", c)
	}
	if !slices.Equal(c.Seeds, []int64{1, 2, 3, 4, 11, 12, 13, 14}) {
		t.Errorf("pooled seeds %v", c.Seeds)
	}
	if !slices.Equal(rep.Dirs, []string{r1, r2}) || !slices.Equal(rep.Variants, []string{"A", "B"}) {
		t.Errorf("dirs %v, variants %v", rep.Dirs, rep.Variants)
	}
	one, err := experiments.BuildReport(r1, experiments.DefaultReportOptions())
	if err != nil || one.Cells[[2]string{"A", "easy"}].IQM != 2.5 {
		t.Fatalf("one round alone: %v", err)
	}

	// The same directory twice.
	_, err = experiments.BuildReportDirs([]string{r1, r1}, experiments.DefaultReportOptions())
	if !errors.Is(err, experiments.ErrDuplicateRun) || !strings.Contains(err.Error(), `variant "A", task "easy", seed 1`) {
		t.Errorf("a directory twice: %v", err)
	}
	// Seed 12 of A in a third directory: refused, naming both runs.
	r3 := filepath.Join(tmp, "round3")
	writeSyntheticRun(t, r3, "A", "easy", 12, 100)
	_, err = experiments.BuildReportDirs([]string{r2, r3}, experiments.DefaultReportOptions())
	if !errors.Is(err, experiments.ErrDuplicateRun) ||
		!strings.Contains(err.Error(), filepath.Join(r2, "A", "easy", "seed-12")) || !strings.Contains(err.Error(), filepath.Join(r3, "A", "easy", "seed-12")) {
		t.Errorf("a seed in two directories: %v", err)
	}
	// Within one directory too: two runs labelled alike (round 2's A and a
	// run of another name, B's directory, that calls itself A).
	writeSyntheticRun(t, r2, "B", "easy", 13, 6)
	relabel(t, filepath.Join(r2, "B", "easy", "seed-13"), "A")
	if _, err := experiments.BuildReport(r2, experiments.DefaultReportOptions()); !errors.Is(err, experiments.ErrDuplicateRun) {
		t.Errorf("a seed twice in one directory: %v", err)
	}
	if _, err := experiments.BuildReportDirs(nil, experiments.DefaultReportOptions()); !errors.Is(err, experiments.ErrNotResults) {
		t.Errorf("no directory: %v", err)
	}
}

// relabel rewrites the variant of the run in dir.
func relabel(t *testing.T, dir, variant string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := experiments.DecodeSummary(data)
	if err != nil {
		t.Fatal(err)
	}
	sum.Variant = variant
	b, err := experiments.EncodeSummary(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
