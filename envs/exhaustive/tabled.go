package exhaustive

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/envs"
)

// Tabled returns ds answered from t, a complete sweep of ds: Evaluate
// copies the configuration's record instead of evaluating it, so a learner
// that revisits a simulated space many times (many seeds, objectives and
// methods on one trace) pays for each simulation once, in the sweep. The
// numbers are the ones ds gives, bit for bit, because the table is ds's own
// output; two checks make sure the table is of ds:
//   - the header must name ds (Name, knobs with their values, metrics), so
//     a table of another trace, device or knob set is refused;
//   - check configurations, drawn from rng, are evaluated with ds and must
//     equal their records exactly (a stale table, e.g. one swept before a
//     change of the simulator or of a trace file with the same name, is
//     refused). check = 0 skips the spot check.
//
// The returned space has ds's name, knobs and metrics, so optima, sweeps
// and run summaries treat it as ds. It is safe for concurrent use.
func Tabled(ds envs.DesignSpace, t *Table, check int, rng *rand.Rand) (envs.DesignSpace, error) {
	want := HeaderOf(ds)
	if t.Space != want.Space {
		return nil, fmt.Errorf("the table is of space %q, not %q", t.Space, want.Space)
	}
	if !slices.Equal(t.Metrics, want.Metrics) {
		return nil, fmt.Errorf("the table has metrics %v, the space %v", t.Metrics, want.Metrics)
	}
	if len(t.Knobs) != len(want.Knobs) {
		return nil, fmt.Errorf("the table has %d knobs, the space %d", len(t.Knobs), len(want.Knobs))
	}
	for i, k := range want.Knobs {
		if t.Knobs[i].Name != k.Name || !slices.Equal(t.Knobs[i].Values, k.Values) {
			return nil, fmt.Errorf("knob %d: the table has %s %v, the space %s %v", i, t.Knobs[i].Name, t.Knobs[i].Values, k.Name, k.Values)
		}
	}
	if t.radices == nil {
		t.init()
	}
	ts := tabled{ds: ds, t: t}
	if check > 0 {
		cfg := make([]int, len(t.radices))
		got := make([]float64, len(t.Metrics))
		for range check {
			i := rng.IntN(t.Len())
			t.Config(i, cfg)
			if err := ds.Evaluate(cfg, got); err != nil {
				return nil, fmt.Errorf("spot check of configuration %d: %w", i, err)
			}
			if rec := t.Row(i); !slices.Equal(rec, got) {
				return nil, fmt.Errorf("configuration %d %v: the table says %v, the space evaluates %v (the table is stale: sweep again)", i, cfg, rec, got)
			}
		}
	}
	return ts, nil
}

type tabled struct {
	ds envs.DesignSpace
	t  *Table
}

func (s tabled) Name() string          { return s.ds.Name() }
func (s tabled) Knobs() []envs.Knob    { return s.ds.Knobs() }
func (s tabled) MetricNames() []string { return s.ds.MetricNames() }

// Unwrap returns the space the table was swept from.
func (s tabled) Unwrap() envs.DesignSpace { return s.ds }

// Evaluate copies cfg's record into out.
func (s tabled) Evaluate(cfg []int, out []float64) error {
	i, err := s.t.Index(cfg)
	if err != nil {
		return err
	}
	if len(out) < len(s.t.Metrics) {
		return fmt.Errorf("metric buffer of %d, want %d", len(out), len(s.t.Metrics))
	}
	copy(out, s.t.Row(i))
	return nil
}
