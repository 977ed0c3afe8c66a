package envs

import (
	"fmt"
	"math"
	"slices"
)

// spaceView is what the two environment forms of a design space (SpaceEnv,
// RevisionEnv) share: the knobs, the objective with its reference, the
// reference design's metrics and the observed metrics.
type spaceView struct {
	ds    DesignSpace
	obj   *Objective
	knobs []Knob
	maxV  int       // largest value count
	ref   []float64 // the reference design's metrics, shared, read-only
	obsM  []int     // indices of the observed metrics, shared, read-only
}

// newSpaceView validates the reference design (nil: every knob at its first
// value), evaluates it once through ds, resolves the observed metrics (nil:
// all; they must be positive and finite there, being observed on a log
// scale) and gives obj the reference's metrics as reference when it has
// none. env names the environment and what the reference design in errors.
func newSpaceView(ds DesignSpace, obj *Objective, reference []int, obsMetrics []string, env, what string) (spaceView, []int, error) {
	name := ds.Name()
	v := spaceView{ds: ds, knobs: ds.Knobs()}
	if obj == nil {
		return v, nil, fmt.Errorf("%s %s: no objective", env, name)
	}
	if len(v.knobs) == 0 {
		return v, nil, fmt.Errorf("%s %s: no knobs", env, name)
	}
	if reference == nil {
		reference = make([]int, len(v.knobs))
	}
	reference = slices.Clone(reference)
	if err := ValidateConfig(v.knobs, reference); err != nil {
		return v, nil, fmt.Errorf("%s %s: %s: %w", env, name, what, err)
	}
	for _, k := range v.knobs {
		v.maxV = max(v.maxV, len(k.Values))
	}
	names := ds.MetricNames()
	v.ref = make([]float64, len(names))
	if err := ds.Evaluate(slices.Clone(reference), v.ref); err != nil {
		return v, nil, fmt.Errorf("%s %s: evaluating the %s: %w", env, name, what, err)
	}
	if obsMetrics == nil {
		for j := range names {
			v.obsM = append(v.obsM, j)
		}
	}
	for _, m := range obsMetrics {
		j := slices.Index(names, m)
		if j < 0 {
			return v, nil, fmt.Errorf("%s %s: observed metric %q unknown (have %v)", env, name, m, names)
		}
		v.obsM = append(v.obsM, j)
	}
	for _, j := range v.obsM {
		if x := v.ref[j]; !(x > 0) || math.IsInf(x, 0) {
			return v, nil, fmt.Errorf("%s %s: %s metric %s = %v; observed metrics must be positive and finite (choose them with ObsMetrics)", env, name, what, names[j], x)
		}
	}
	v.obj = obj
	if !obj.HasReference() {
		o, err := obj.WithReference(v.ref)
		if err != nil {
			return v, nil, fmt.Errorf("%s %s: %w", env, name, err)
		}
		v.obj = o
	}
	return v, reference, nil
}

// agents returns the agent specs: one per knob, observations of obsSize.
func (v *spaceView) agents(obsSize int) []AgentSpec {
	a := make([]AgentSpec, len(v.knobs))
	for i, k := range v.knobs {
		a[i] = AgentSpec{Name: k.Name, ObsSize: obsSize, NumActions: len(k.Values)}
	}
	return a
}

// writeKnobObs writes the common head of agent observations: per agent,
// log(metric / reference) of each observed metric of metrics (clamped to
// [-50, 50] should a metric reach zero or below), then the one-hot of the
// agent's value in design, zero-padded to maxV. It returns the length
// written (M + maxV).
func (v *spaceView) writeKnobObs(obs [][]float32, metrics []float64, design []int) int {
	m := len(v.obsM)
	for i := range v.knobs {
		o := obs[i]
		for k, j := range v.obsM {
			o[k] = float32(min(max(math.Log(max(metrics[j], 1e-300)/v.ref[j]), -50), 50))
		}
		oh := o[m : m+v.maxV]
		clear(oh)
		oh[design[i]] = 1
	}
	return m + v.maxV
}
