package exhaustive

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/commgraph/commgraph/envs/synthetic"
)

// TestInteractionsRecoverSyntheticGroundTruth sweeps the colleague-built
// synthetic space with planted pairs (envs/synthetic) and checks that the
// ANOVA of log(exp_y) = y ranks exactly the planted pairs first, in order
// of strength, with shares equal to the exact ones.
func TestInteractionsRecoverSyntheticGroundTruth(t *testing.T) {
	for _, c := range []synthetic.Config{
		{Values: []int{3, 4, 2, 5, 3, 4}, Pairs: []synthetic.Pair{{A: 1, B: 4, S: 1.0}, {A: 0, B: 3, S: 0.6}}, MainScale: 1.5, Seed: 11},
		synthetic.DRAMLike(5),
	} {
		ds := synthetic.MustNew(c)
		path := filepath.Join(t.TempDir(), "syn.sweep")
		if _, err := Run(context.Background(), ds, path, Options{ChunkSize: 1 << 14}); err != nil {
			t.Fatal(err)
		}
		tab, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ComputeInteractions(tab, []string{synthetic.MetricExpY})
		if err != nil {
			t.Fatal(err)
		}
		m := r.Metrics[0]
		planted := ds.Pairs()
		total := ds.TotalVariance()
		for i, p := range m.Top(len(planted)) {
			want := planted[i] // planted in decreasing strength
			if p.AIndex != min(want.A, want.B) || p.BIndex != max(want.A, want.B) {
				t.Fatalf("%s: rank %d is %s x %s, want planted k%d x k%d", ds.Name(), i+1, p.A, p.B, want.A, want.B)
			}
			if exact := ds.PairVariance(want.A, want.B) / total; !near(p.Share, exact, 1e-9) {
				t.Fatalf("%s: share of %s x %s = %v, exact %v", ds.Name(), p.A, p.B, p.Share, exact)
			}
		}
		if next := m.Pairs[len(planted)].Share; next > 1e-12 {
			t.Fatalf("%s: first unplanted pair has share %g", ds.Name(), next)
		}
	}
}
