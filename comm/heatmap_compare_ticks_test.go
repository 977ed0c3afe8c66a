package comm

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

// dramKnobNames are the DRAM design space's knobs (envs/dram), the longest
// agent names the compare figure has to label.
var dramKnobNames = []string{"PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue",
	"RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"}

// namedSnapshot is a learned graph over agents with distinct logits per row
// (so that every row is decided) and its top-k adjacency.
func namedSnapshot(agents []string, k int) *Snapshot {
	n := len(agents)
	s := &Snapshot{Agents: agents, Variant: Learned, K: k, Sparsity: float64(k) / float64(n-1)}
	for i := range n {
		logits, probs, adj := make([]float64, n), make([]float64, n), make([]int, n)
		sum := 0.0
		for j := range n {
			logits[j] = float64((i+3*j)%n) / 2
			probs[j] = math.Exp(logits[j])
			sum += probs[j]
		}
		for j := range n {
			probs[j] /= sum
		}
		// Top k off-diagonal by logit (distinct within a row off the diagonal
		// when gcd(3, n) = 1).
		adj[i] = 1
		for range k {
			best := -1
			for j := range n {
				if j != i && adj[j] == 0 && (best < 0 || logits[j] > logits[best]) {
					best = j
				}
			}
			adj[best] = 1
		}
		s.Logits, s.Probabilities, s.Adjacency = append(s.Logits, logits), append(s.Probabilities, probs), append(s.Adjacency, adj)
		s.ReceiveRates = append(s.ReceiveRates, 1)
	}
	return s
}

// TestCompareSenderLabelsDoNotOverlap: in the side-by-side figure that
// `graph compare --png` draws for the DRAM space (10 knobs, the size the CLI
// picks), every sender label fits in its column's width, so neighbouring
// labels cannot overlap: the long knob names are turned upright. Short
// names stay horizontal. The labels are the full agent names.
func TestCompareSenderLabelsDoNotOverlap(t *testing.T) {
	for _, c := range []struct {
		name    string
		agents  []string
		upright bool
	}{
		{"dram knobs", dramKnobNames, true},
		{"short names", []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}, false},
	} {
		s := namedSnapshot(c.agents, 2)
		n := len(c.agents)
		truth := make([][]float64, n)
		for i := range truth {
			truth[i] = make([]float64, n)
		}
		truth[8][9], truth[9][8], truth[0][3] = 1, 1, 0.5
		// The size cmd/commgraph's graph compare uses for more than 6 agents.
		opt := ExportOptions{Width: 2*(110*n+150) + 200, Height: 70*n + 170}
		f, err := s.compareFigure(CompareView{Truth: truth, Title: "truth", Summary: "summary"}, opt)
		if err != nil {
			t.Fatal(err)
		}
		for side, pt := range map[string]comparePart{"left": f.left, "right": f.right} {
			col := senderColumn(pt.p, pt.c, n)
			sty := pt.p.X.Tick.Label
			if got := sty.Rotation != 0; got != c.upright {
				t.Errorf("%s, %s panel: upright labels %v, want %v", c.name, side, got, c.upright)
			}
			ticks := pt.p.X.Tick.Marker.Ticks(pt.p.X.Min, pt.p.X.Max)
			if len(ticks) != n {
				t.Fatalf("%s, %s panel: %d sender ticks, want %d", c.name, side, len(ticks), n)
			}
			for i, tk := range ticks {
				if tk.Label != c.agents[i] || tk.Value != float64(i) {
					t.Errorf("%s, %s panel: tick %d is %q at %v, want %q at %d", c.name, side, i, tk.Label, tk.Value, c.agents[i], i)
				}
				r := sty.Rectangle(tk.Label)
				if w := r.Max.X - r.Min.X; w >= col {
					t.Errorf("%s, %s panel: label %q is %.1f pt wide, its column %.1f pt: neighbours overlap", c.name, side, tk.Label, w, col)
				}
			}
		}
	}
	// The figure still renders (and at the same size).
	s := namedSnapshot(dramKnobNames, 2)
	truth := make([][]float64, 10)
	for i := range truth {
		truth[i] = make([]float64, 10)
	}
	truth[8][9] = 1
	var b bytes.Buffer
	if err := s.RenderComparePNG(&b, CompareView{Truth: truth, Title: "truth"}, ExportOptions{Width: 2700, Height: 870}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 2700 || r.Dy() != 870 {
		t.Errorf("image %v, want 2700x870", r)
	}
}
