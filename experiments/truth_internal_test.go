package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// pairSpace is a 4-knob design space whose time_ns is
// exp(x0*x1 + 0.01*x2 + x3): knobs a and b interact, c barely matters and d
// acts alone.
type pairSpace struct{ name string }

func (s pairSpace) Name() string { return s.name }
func (s pairSpace) Knobs() []envs.Knob {
	v := []string{"0", "1", "2"}
	return []envs.Knob{{Name: "a", Values: v}, {Name: "b", Values: v}, {Name: "c", Values: v}, {Name: "d", Values: v}}
}
func (s pairSpace) MetricNames() []string { return []string{"time_ns"} }
func (s pairSpace) Evaluate(cfg []int, out []float64) error {
	out[0] = math.Exp(float64(cfg[0]*cfg[1]) + 0.01*float64(cfg[2]) + float64(cfg[3]))
	return nil
}

func sweepPairSpace(t *testing.T, s pairSpace, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := exhaustive.Run(context.Background(), s, path, exhaustive.Options{Jobs: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestTruthSweepResolution: log.truth_sweep finds the space's default
// table, takes a given one, refuses a table of another space (before the
// run starts, as a configuration error) and a missing file, and "none"
// turns the comparison off.
func TestTruthSweepResolution(t *testing.T) {
	tmp := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	space := pairSpace{"pairs/x"}
	if p, err := truthSweep("", space); p != "" || err != nil {
		t.Errorf("no default table: %q %v", p, err)
	}
	def := filepath.Join("runs", "sweep", "pairs-x.sweep")
	sweepPairSpace(t, space, def)
	if p, err := truthSweep("", space); p != def || err != nil {
		t.Errorf("default table: %q %v, want %s", p, err, def)
	}
	if p, err := truthSweep("none", space); p != "" || err != nil {
		t.Errorf("none: %q %v", p, err)
	}
	if p, err := truthSweep(def, space); p != def || err != nil {
		t.Errorf("explicit: %q %v", p, err)
	}
	other := pairSpace{"pairs/y"}
	if _, err := truthSweep(def, other); err == nil || !strings.Contains(err.Error(), "is a sweep of pairs/x") || !strings.Contains(err.Error(), "space is pairs/y") {
		t.Errorf("another space's table: %v", err)
	}
	if _, err := truthSweep("missing.sweep", space); err == nil || !strings.Contains(err.Error(), "log.truth_sweep") {
		t.Errorf("missing table: %v", err)
	}
}

// TestSummaryAgainstMeasuredInteractions: the summary compares the learned
// graph with the pairs the sweep measures (a-b only, the others below 1%):
// a graph in which a and b hear each other has precision@|E| 1; one that
// pairs the wrong knobs has 0.
func TestSummaryAgainstMeasuredInteractions(t *testing.T) {
	tmp := t.TempDir()
	space := pairSpace{"pairs/x"}
	path := filepath.Join(tmp, "p.sweep")
	sweepPairSpace(t, space, path)
	mt, err := readMeasuredTruth(path, "time_ns")
	if err != nil {
		t.Fatal(err)
	}
	if mt.Pairs != 1 || mt.Matrix[0][1] == 0 || mt.Matrix[1][0] == 0 || mt.Matrix[2][3] != 0 {
		t.Fatalf("measured pairs %d, matrix %v; want only a-b", mt.Pairs, mt.Matrix)
	}
	// Agents in another order than the table's knobs: aligned by name.
	agents := []string{"b", "a", "d", "c"}
	snap := func(hear [4]int) *comm.Snapshot {
		s := &comm.Snapshot{Iteration: 3, Agents: agents, Variant: comm.Learned, Sparsity: 0.34, K: 1}
		for i := range 4 {
			lg, pr, ad := make([]float64, 4), make([]float64, 4), make([]int, 4)
			for j := range 4 {
				pr[j] = 0.25
			}
			ad[i], ad[hear[i]] = 1, 1
			lg[hear[i]] = 5 - 4*float64(i/2) // rows b and a decide more firmly than d and c
			s.Logits, s.Probabilities, s.Adjacency = append(s.Logits, lg), append(s.Probabilities, pr), append(s.Adjacency, ad)
			s.ReceiveRates = append(s.ReceiveRates, 1)
		}
		return s
	}
	good := summariseGraph(snap([4]int{1, 0, 3, 2}), space, mt) // b<-a, a<-b, d<-c, c<-d
	if good.Truth == nil || good.Truth.Directed.PrecisionAtE != 1 || !strings.Contains(good.TruthSource, "measured in "+path) || !strings.Contains(good.TruthSource, "log(time_ns)") {
		t.Fatalf("right graph: truth %+v, source %q", good.Truth, good.TruthSource)
	}
	bad := summariseGraph(snap([4]int{2, 3, 0, 1}), space, mt) // b<-d, a<-c, ...
	if bad.Truth == nil || bad.Truth.Directed.PrecisionAtE != 0 || bad.Truth.Directed.Recall != 0 {
		t.Fatalf("wrong graph: truth %+v", bad.Truth)
	}
	// Agents that are not the table's knobs: no comparison.
	s := snap([4]int{1, 0, 3, 2})
	s.Agents = []string{"p", "q", "r", "s"}
	if g := summariseGraph(s, space, mt); g.Truth != nil {
		t.Errorf("foreign agents compared: %+v", g.Truth)
	}
	if objectiveMetric(nil) != "" {
		t.Error("objectiveMetric(nil)")
	}
}
