package comm

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/attention"
	"gorgonia.org/tensor"
)

func TestRowMargins(t *testing.T) {
	const n = 4
	// Rows = receivers; the diagonal (99) must be ignored.
	logits := []float64{
		99, 3, 1, 1, // off-diagonal {3,1,1}
		1, 99, 1, 1, // flat: all tied
		0.001, 0, 99, 0, // large margin, tiny gap
		5, 4, 1, 99, // k=1 gap 1; k=2 gap 3
	}
	gaps := RowGaps(logits, n, 1)
	m := RowMargins(logits, n, 1)
	// Row 0: gap 3-1 = 2; mean 5/3, variance (16/9+4/9+4/9)/3 = 8/9,
	// spread 2*sqrt(2)/3, margin 2/(2*sqrt(2)/3) = 3/sqrt(2).
	// Row 2: gap 0.001, spread 0.001*sqrt(2)/3, margin 3/sqrt(2).
	// Row 3: gap 5-4 = 1; mean 10/3, variance (25/9+4/9+49/9)/3 = 26/9.
	wantGaps := []float64{2, 0, 0.001, 1}
	wantM := []float64{3 / math.Sqrt2, 0, 3 / math.Sqrt2, 1 / math.Sqrt(26.0/9)}
	for i := range wantGaps {
		if math.Abs(gaps[i]-wantGaps[i]) > 1e-12 || math.Abs(m[i]-wantM[i]) > 1e-12 {
			t.Errorf("row %d: gap %v margin %v, want %v %v", i, gaps[i], m[i], wantGaps[i], wantM[i])
		}
	}
	// k = 2: row 3's 2nd and 3rd largest are 4 and 1.
	if g := RowGaps(logits, n, 2); g[3] != 3 || g[0] != 0 {
		t.Errorf("k=2 gaps %v", g)
	}
	// Decisions: row 0 and 3 decided; row 1 tied; row 2 within 0.05 logits.
	wantDec := []bool{true, false, false, true}
	for i := range wantDec {
		if got := Decided(m[i], gaps[i]); got != wantDec[i] {
			t.Errorf("row %d decided %v, want %v", i, got, wantDec[i])
		}
	}
	// Full rows: k >= n-1 or k <= 0 leave no choice.
	for _, k := range []int{0, 3, 4} {
		if RowMargins(logits, n, k) != nil || RowGaps(logits, n, k) != nil || !fullRows(n, k) {
			t.Errorf("k=%d: want full rows (nil margins)", k)
		}
	}
}

func TestDecidedBoundary(t *testing.T) {
	cases := []struct {
		m, g float64
		want bool
	}{
		{0.5, 0.05, true}, {0.49, 10, false}, {10, 0.049, false}, {0, 0, false}, {3, 1, true},
	}
	for _, c := range cases {
		if got := Decided(c.m, c.g); got != c.want {
			t.Errorf("Decided(%v, %v) = %v", c.m, c.g, got)
		}
	}
}

// handSnapshot is a learned 4-agent snapshot with k = 1 whose rows are:
// decided, tied, tiny gap, decided (the logits of TestRowMargins).
func handSnapshot() *Snapshot {
	s := &Snapshot{
		Agents:  []string{"a", "b", "c", "d"},
		Variant: Learned, Sparsity: 0.25, K: 1,
		Logits: [][]float64{
			{0, 3, 1, 1},
			{1, 0, 1, 1},
			{0.001, 0, 0, 0},
			{5, 4, 1, 0},
		},
		Adjacency: [][]int{
			{1, 1, 0, 0},
			{1, 1, 0, 0},
			{1, 0, 1, 0},
			{1, 0, 0, 1},
		},
		ReceiveRates: []float64{1, 1, 1, 1},
	}
	s.Probabilities = make([][]float64, 4)
	for i, r := range s.Logits {
		s.Probabilities[i] = make([]float64, 4)
		sum := 0.0
		for j, v := range r {
			s.Probabilities[i][j] = math.Exp(v)
			sum += s.Probabilities[i][j]
		}
		for j := range r {
			s.Probabilities[i][j] /= sum
		}
	}
	return s
}

func TestSnapshotMargins(t *testing.T) {
	s := handSnapshot()
	s.ComputeMargins()
	if s.UndecidedRows != 2 || !s.Decided[0] || s.Decided[1] || s.Decided[2] || !s.Decided[3] {
		t.Fatalf("decided %v undecided %d", s.Decided, s.UndecidedRows)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// Inconsistent counts are rejected.
	bad := *s
	bad.UndecidedRows = 1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "undecided_rows") {
		t.Errorf("inconsistent undecided_rows: %v", err)
	}
	// A snapshot written before the fields existed gets them when read.
	fresh := handSnapshot()
	data, err := json.Marshal(fresh)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	for _, f := range []string{"margins", "gaps", "decided", "undecided_rows"} {
		delete(m, f)
	}
	old, _ := json.Marshal(m)
	got, err := decodeSnapshot(old)
	if err != nil {
		t.Fatal(err)
	}
	if got.UndecidedRows != 2 || len(got.Margins) != 4 || got.Margins[0] != s.Margins[0] || got.Gaps[2] != s.Gaps[2] {
		t.Errorf("old snapshot: margins %v gaps %v undecided %d", got.Margins, got.Gaps, got.UndecidedRows)
	}
	// Encoding a snapshot built without the fields writes them.
	var b strings.Builder
	if err := fresh.EncodeJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"undecided_rows": 2`) || fresh.Decided != nil {
		t.Errorf("encoded: %s (input changed: %v)", b.String(), fresh.Decided)
	}
	// Fixed variants are decided by construction.
	fx := handSnapshot()
	fx.Logits, fx.Variant = nil, Random
	fx.ComputeMargins()
	if fx.UndecidedRows != 0 || fx.Margins != nil || len(fx.Decided) != 4 || !fx.Decided[1] {
		t.Errorf("fixed: %+v", fx)
	}
}

// TestGraphSnapshotMargins: Graph.Snapshot fills the decision fields from
// alpha: all ones = every row tied; a clear preference = decided.
func TestGraphSnapshotMargins(t *testing.T) {
	const n = 5
	g, err := NewGraph(attention.NewParams(tensor.Float64), "graph/alpha", GraphConfig{N: n, Sparsity: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.Snapshot(0, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if fullRows(n, s.K) {
		t.Fatalf("test setup: k = %d leaves no choice", s.K)
	}
	if s.UndecidedRows != n {
		t.Errorf("alpha = ones: %d undecided rows, want %d", s.UndecidedRows, n)
	}
	a := g.Alpha.Value.Data().([]float64)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[i*n+j] = float64((i + j) % n) // distinct off-diagonal values per row
		}
	}
	s, err = g.Snapshot(1, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := RowMargins(a, n, s.K)
	for i := range want {
		if s.Margins[i] != want[i] {
			t.Errorf("row %d margin %v, want %v", i, s.Margins[i], want[i])
		}
	}
	if s.UndecidedRows != 0 {
		t.Errorf("distinct logits: %d undecided rows (margins %v gaps %v)", s.UndecidedRows, s.Margins, s.Gaps)
	}
}
