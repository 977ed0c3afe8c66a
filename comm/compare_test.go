package comm

import (
	"math"
	"strings"
	"testing"
)

// twoPairs: 4 agents, pairs {0,1} and {2,3} (symmetric truth).
func twoPairs() [][]float64 {
	return [][]float64{
		{0, 1, 0, 0},
		{1, 0, 0, 0},
		{0, 0, 0, 2},
		{0, 0, 2, 0},
	}
}

func scaled(m [][]float64, a float64) [][]float64 {
	out := make([][]float64, len(m))
	for i, r := range m {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = a * v
		}
	}
	return out
}

// topOne: each row hears the highest-scoring other sender (lowest index on ties).
func topOne(scores [][]float64) [][]int {
	n := len(scores)
	adj := make([][]int, n)
	for i := range adj {
		adj[i] = make([]int, n)
		adj[i][i] = 1
		best := -1
		for j := 0; j < n; j++ {
			if j != i && (best < 0 || scores[i][j] > scores[i][best]) {
				best = j
			}
		}
		adj[i][best] = 1
	}
	return adj
}

func TestCompareHandCases(t *testing.T) {
	truth := twoPairs()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	cases := []struct {
		name   string
		scores [][]float64
		// directed and symmetrised: precision@|E|, recall, precision, AUROC, hit rate
		dir, sym [5]float64
	}{
		// Perfect ranking: the true partners score highest and are chosen.
		{"perfect", scaled(truth, 1), [5]float64{1, 1, 1, 1, 1}, [5]float64{1, 1, 1, 1, 1}},
		// Reversed: the true partners score lowest. Each row hears its
		// lowest-index non-partner: 0<-2, 1<-2, 2<-0, 3<-0: no true edge.
		{"reversed", scaled(truth, -1), [5]float64{0, 0, 0, 0, 0}, [5]float64{0, 0, 0, 0, 0}},
		// All tied: AUROC 1/2; precision@|E| = the base rate 4/12 (directed),
		// 2/6 (symmetrised). Each row hears its lowest other index: 0<-1 (true),
		// 1<-0 (true), 2<-0, 3<-0: directed recall 2/4, precision 2/4, hit
		// rate 2/4; symmetrised pairs chosen {0,1},{0,2},{0,3}: recall 1/2,
		// precision 1/3.
		{"tied", scaled(truth, 0), [5]float64{1.0 / 3, 0.5, 0.5, 0.5, 0.5}, [5]float64{1.0 / 3, 0.5, 1.0 / 3, 0.5, 0.5}},
	}
	for _, c := range cases {
		got, err := Compare(c.scores, topOne(c.scores), truth)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, v := range []struct {
			view string
			r    Recovery
			want [5]float64
		}{{"directed", got.Directed, c.dir}, {"symmetrised", got.Symmetrised, c.sym}} {
			g := [5]float64{v.r.PrecisionAtE, v.r.Recall, v.r.Precision, v.r.AUROC, v.r.HitRate}
			for m := range g {
				if !near(g[m], v.want[m]) {
					t.Errorf("%s %s: [P@|E| recall precision AUROC hit] = %v, want %v", c.name, v.view, g, v.want)
					break
				}
			}
		}
		if got.Directed.TrueItems != 4 || got.Directed.Items != 12 || got.Symmetrised.TrueItems != 2 || got.Symmetrised.Items != 6 {
			t.Errorf("%s: counts %+v %+v", c.name, got.Directed, got.Symmetrised)
		}
	}
}

// TestCompareAsymmetric: a directed truth (0 hears 1 only) where the
// directed and symmetrised views disagree; every figure computed by hand.
func TestCompareAsymmetric(t *testing.T) {
	truth := [][]float64{{0, 1, 0}, {0, 0, 0}, {0, 0, 0}}
	scores := [][]float64{
		{0, 0, 1},
		{2, 0, 0},
		{-1, 0, 0},
	}
	adj := [][]int{{1, 0, 1}, {1, 1, 0}, {0, 1, 1}} // 0<-2, 1<-0, 2<-1
	c, err := Compare(scores, adj, truth)
	if err != nil {
		t.Fatal(err)
	}
	// Directed: the one true item (0<-1) scores 0; the others 1, 2, -1, 0, 0:
	// beats -1, ties two zeros: U = 1 + 2*0.5 = 2 of 5. Top-1 is 1<-0 (false).
	d := c.Directed
	if d.AUROC != 0.4 || d.PrecisionAtE != 0 || d.Recall != 0 || d.Precision != 0 || d.HitRate != 0 || d.HitReceivers != 1 || d.ChosenItems != 3 {
		t.Errorf("directed %+v", d)
	}
	// Symmetrised: {0,1} = (0+2)/2 = 1, {0,2} = (1-1)/2 = 0, {1,2} = 0:
	// AUROC 1, P@1 = 1. Pairs chosen: all three, recall 1, precision 1/3.
	// Hit rate: receiver 0 (partner 1) hears 2: 0; receiver 1 (partner 0)
	// hears 0: 1; mean 1/2.
	s := c.Symmetrised
	if s.AUROC != 1 || s.PrecisionAtE != 1 || s.Recall != 1 || math.Abs(s.Precision-1.0/3) > 1e-15 || s.HitRate != 0.5 || s.HitReceivers != 2 {
		t.Errorf("symmetrised %+v", s)
	}
	if len(c.Receivers) != 1 || c.Receivers[0] != (ReceiverHits{Receiver: 0, TruePartners: 1, Chosen: 1, Hits: 0}) {
		t.Errorf("receivers %+v", c.Receivers)
	}
}

func TestAUROCAndPrecisionAt(t *testing.T) {
	// Positives 0.9 and 0.7 against negatives 0.8 and 0.1: 3 of 4 pairs.
	if a := auroc([]float64{0.9, 0.8, 0.7, 0.1}, []bool{true, false, true, false}); a != 0.75 {
		t.Errorf("AUROC = %v, want 0.75", a)
	}
	// A tie between a positive and a negative counts half: (0.5 + 1) / 2.
	if a := auroc([]float64{1, 1, 0}, []bool{true, false, false}); a != 0.75 {
		t.Errorf("AUROC with a tie = %v, want 0.75", a)
	}
	if a := auroc([]float64{1, 2}, []bool{true, true}); !math.IsNaN(a) {
		t.Errorf("AUROC with no negative = %v, want NaN", a)
	}
	// Top 2 of [2 1 1 1 0]: the 2 (false) plus one place shared by three
	// tied items of which one is true: (0 + 1/3) / 2.
	if p := precisionAt([]float64{2, 1, 1, 1, 0}, []bool{false, true, false, false, true}, 2); math.Abs(p-1.0/6) > 1e-15 {
		t.Errorf("precisionAt = %v, want 1/6", p)
	}
	if p := precisionAt([]float64{3, 2, 1}, []bool{true, true, false}, 2); p != 1 {
		t.Errorf("precisionAt = %v, want 1", p)
	}
}

// TestHitRateCaps: a receiver with more true partners than slots scores 1
// when its slots hold partners; a receiver with fewer partners than slots
// scores 1 when its partners are among the chosen.
func TestHitRateCaps(t *testing.T) {
	truth := [][]float64{
		{0, 1, 1, 0},
		{1, 0, 0, 0},
		{1, 0, 0, 0},
		{0, 0, 0, 0},
	}
	adj := [][]int{
		{1, 1, 0, 1}, // 2 chosen, 1 partner among them, 2 partners: 1/2
		{1, 1, 0, 1}, // 2 chosen, its 1 partner among them: 1/1
		{0, 0, 1, 1}, // 1 chosen, not its partner: 0
		{1, 1, 0, 1},
	}
	c, err := Compare(scaled(truth, 1), adj, truth)
	if err != nil {
		t.Fatal(err)
	}
	if want := (0.5 + 1 + 0) / 3; math.Abs(c.Directed.HitRate-want) > 1e-15 || c.Directed.HitReceivers != 3 {
		t.Errorf("hit rate %v over %d receivers, want %v over 3", c.Directed.HitRate, c.Directed.HitReceivers, want)
	}
}

func TestCompareErrors(t *testing.T) {
	truth := twoPairs()
	sc := scaled(truth, 1)
	adj := topOne(sc)
	cases := []struct {
		name   string
		scores [][]float64
		adj    [][]int
		truth  [][]float64
		want   string
	}{
		{"empty truth", sc, adj, scaled(truth, 0), "no interacting pair"},
		{"complete truth", sc, adj, [][]float64{{0, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, 0, 1}, {1, 1, 1, 0}}, "every pair"},
		{"size mismatch", sc[:3], adj, truth, "4 agents in the truth, 3 in the scores"},
		{"negative weight", sc, adj, scaled(truth, -1), "want finite and >= 0"},
		{"ragged", sc, adj, [][]float64{{0, 1, 0, 0}, {1, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}}, "row 1"},
		{"nan score", [][]float64{{0, math.NaN(), 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}}, adj, truth, "not finite"},
	}
	for _, c := range cases {
		if _, err := Compare(c.scores, c.adj, c.truth); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestSnapshotCompare: the snapshot's scores are row-centred logits, so a
// constant added to one row (which changes neither softmax nor top-k) does
// not change the comparison; the result carries k and the undecided rows.
func TestSnapshotCompare(t *testing.T) {
	s := handSnapshot()
	truth := [][]float64{{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}}
	a, err := s.Compare(truth)
	if err != nil {
		t.Fatal(err)
	}
	for j := range s.Logits[3] {
		s.Logits[3][j] += 100
	}
	b, err := s.Compare(truth)
	if err != nil {
		t.Fatal(err)
	}
	if a.Directed != b.Directed || a.Symmetrised != b.Symmetrised {
		t.Errorf("row offset changed the result:\n%+v\n%+v", a, b)
	}
	if a.K != 1 || a.UndecidedRows != 2 || a.N != 4 {
		t.Errorf("k %d undecided %d n %d", a.K, a.UndecidedRows, a.N)
	}
	if _, err := s.Compare(truth[:3]); err == nil || !strings.Contains(err.Error(), "3 agents, the graph 4") {
		t.Errorf("mismatch: %v", err)
	}
}

func TestGroupSenders(t *testing.T) {
	adj := [][]int{ // 5 agents; group {0, 1, 2}
		{1, 1, 0, 1, 0}, // 0 hears 1 (in), 3 (out)
		{1, 1, 1, 0, 0}, // 1 hears 0, 2 (both in)
		{0, 0, 1, 0, 1}, // 2 hears 4 (out)
		{1, 1, 1, 1, 1}, // not in the group: ignored
		{0, 0, 0, 0, 1},
	}
	in, chosen, chance, err := GroupSenders(adj, []int{0, 1, 2})
	if err != nil || in != 3 || chosen != 5 || chance != 0.5 {
		t.Errorf("GroupSenders = %d, %d, %v, %v; want 3, 5, 0.5", in, chosen, chance, err)
	}
	for _, g := range [][]int{{0, 0}, {0, 5}, {1}} {
		if _, _, _, err := GroupSenders(adj, g); err == nil {
			t.Errorf("group %v accepted", g)
		}
	}
}
