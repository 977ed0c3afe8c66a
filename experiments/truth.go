package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// minTruthShare is the interaction share of var(log metric) from which a
// knob pair of a sweep counts as interacting in the run summary (the
// default of `commgraph graph compare --truth sweep:FILE`).
const minTruthShare = 0.01

// defaultSweepPath is where a full sweep of the space is written by default
// (`commgraph dram sweep` without --out): runs/sweep/<space name with "/" as
// "-">.sweep, relative to the working directory.
func defaultSweepPath(space envs.DesignSpace) string {
	return filepath.Join("runs", "sweep", sweepFileName(space))
}

// sweepFileName is the file name of a full sweep of the space: its name
// with "/" as "-", then ".sweep" (dram-random.sweep).
func sweepFileName(space envs.DesignSpace) string {
	return strings.ReplaceAll(space.Name(), "/", "-") + ".sweep"
}

// truthSweep resolves the key log.truth_sweep for a design space: "none"
// (or a task without a design space) -> ""; "" -> the space's default sweep
// table when one exists; a path -> that table, which must exist. The table's
// header must describe this space (name and knobs), or the run would be
// compared with another trace's or device's interactions.
func truthSweep(key string, space envs.DesignSpace) (string, error) {
	if key == "none" || space == nil {
		return "", nil
	}
	path := key
	if key == "" {
		path = defaultSweepPath(space)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
	}
	h, err := exhaustive.ReadHeader(path)
	if err != nil {
		return "", fmt.Errorf("key log.truth_sweep: %w", err)
	}
	knobs := make([]string, len(space.Knobs()))
	for i, k := range space.Knobs() {
		knobs[i] = k.Name
	}
	if h.Space != space.Name() || !slices.Equal(h.KnobNames(), knobs) {
		return "", fmt.Errorf("key log.truth_sweep: %s is a sweep of %s (knobs %s), the task's space is %s (knobs %s); give the table of this space or none",
			path, h.Space, strings.Join(h.KnobNames(), ", "), space.Name(), strings.Join(knobs, ", "))
	}
	return path, nil
}

// objectiveMetric names the metric whose interactions matter for an
// objective: its one metric, or edp for the product of time and energy; ""
// for anything else.
func objectiveMetric(o *envs.Objective) string {
	if o == nil {
		return ""
	}
	ms := slices.Sorted(slices.Values(o.Config().Metrics))
	switch {
	case len(ms) == 1:
		return ms[0]
	case slices.Equal(ms, []string{"energy_pJ", "time_ns"}):
		return exhaustive.MetricEDP
	}
	return ""
}

// measuredTruth is the interaction graph measured by an exhaustive sweep:
// the knob pairs carrying at least minTruthShare of the variance of
// log(metric), in both directions, weighted by their share; rows and
// columns in the table's knob order.
type measuredTruth struct {
	Source string // the sweep table
	Metric string
	Knobs  []string
	Matrix [][]float64
	Pairs  int
}

// readMeasuredTruth runs the two-way ANOVA of log(metric) over the sweep
// table at path.
func readMeasuredTruth(path, metric string) (*measuredTruth, error) {
	tab, err := exhaustive.Read(path)
	if err != nil {
		return nil, err
	}
	r, err := exhaustive.ComputeInteractions(tab, []string{metric})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	mi := r.Metric(metric)
	n := len(r.Knobs)
	mt := &measuredTruth{Source: path, Metric: metric, Knobs: r.Knobs, Matrix: make([][]float64, n)}
	for i := range mt.Matrix {
		mt.Matrix[i] = make([]float64, n)
	}
	for _, p := range mi.Pairs {
		if p.Share >= minTruthShare {
			mt.Matrix[p.AIndex][p.BIndex], mt.Matrix[p.BIndex][p.AIndex] = p.Share, p.Share
			mt.Pairs++
		}
	}
	if mt.Pairs == 0 {
		return nil, fmt.Errorf("%s: no knob pair carries %g of the variance of log(%s)", path, minTruthShare, metric)
	}
	return mt, nil
}

// aligned returns the truth matrix in the order of agents (the knob names),
// or nil when the agents are not exactly the table's knobs.
func (mt *measuredTruth) aligned(agents []string) [][]float64 {
	if len(agents) != len(mt.Knobs) {
		return nil
	}
	idx := make([]int, len(agents))
	for i, a := range agents {
		if idx[i] = slices.Index(mt.Knobs, a); idx[i] < 0 {
			return nil
		}
	}
	m := make([][]float64, len(agents))
	for i := range m {
		m[i] = make([]float64, len(agents))
		for j := range m[i] {
			m[i][j] = mt.Matrix[idx[i]][idx[j]]
		}
	}
	return m
}

// describe says what was taken as true, for the summary.
func (mt *measuredTruth) describe() string {
	return fmt.Sprintf("measured in %s (the %d knob pairs carrying >= %g%% of the variance of log(%s))", mt.Source, mt.Pairs, 100*minTruthShare, mt.Metric)
}
