package exhaustive

import (
	"fmt"
	"slices"
	"strings"

	"github.com/commgraph/commgraph/envs"
)

// Restrict returns the sub-space of ds in which the knobs named in fixed
// (name -> value, both as spelled in ds.Knobs, case-insensitive) have that
// single value. The sub-space keeps all knobs, in order, so its
// configurations and metrics line up with the full space; its name appends
// the fixed settings, e.g. "dram/stream{PagePolicy=Open}". It keeps the
// per-worker evaluators of ds (EvaluatorMaker) and its equivalences
// (Canonicalizer), so that a sweep of the sub-space simulates each class of
// identically evaluated configurations once, as a sweep of the full space
// does.
func Restrict(ds envs.DesignSpace, fixed map[string]string) (envs.DesignSpace, error) {
	full := ds.Knobs()
	r := restricted{ds: ds, knobs: make([]envs.Knob, len(full)), value: make([]int, len(full))}
	var names []string
	used := 0
	for k, kn := range full {
		r.knobs[k] = kn
		r.value[k] = -1
		for name, val := range fixed {
			if !strings.EqualFold(name, kn.Name) {
				continue
			}
			used++
			v := -1
			for i, s := range kn.Values {
				if strings.EqualFold(s, val) {
					v = i
				}
			}
			if v < 0 {
				return nil, fmt.Errorf("knob %s: unknown value %q (allowed: %s)", kn.Name, val, strings.Join(kn.Values, ", "))
			}
			r.value[k] = v
			r.knobs[k] = envs.Knob{Name: kn.Name, Values: []string{kn.Values[v]}}
			names = append(names, kn.Name+"="+kn.Values[v])
		}
	}
	if used != len(fixed) {
		all := make([]string, len(full))
		for i, k := range full {
			all[i] = k.Name
		}
		for name := range fixed {
			found := false
			for _, k := range full {
				found = found || strings.EqualFold(k.Name, name)
			}
			if !found {
				return nil, fmt.Errorf("unknown knob %q (allowed: %s)", name, strings.Join(all, ", "))
			}
		}
		return nil, fmt.Errorf("a knob is fixed twice in %v", fixed)
	}
	r.name = ds.Name()
	if len(names) > 0 {
		r.name += "{" + strings.Join(names, ",") + "}"
	}
	c, canon := ds.(Canonicalizer)
	em, maker := ds.(EvaluatorMaker)
	switch {
	case maker && canon:
		return restrictedMakerCanonical{restrictedMaker{restricted: r, em: em}, c}, nil
	case maker:
		return restrictedMaker{restricted: r, em: em}, nil
	case canon:
		return restrictedCanonical{r, c}, nil
	}
	return r, nil
}

type restricted struct {
	ds    envs.DesignSpace
	name  string
	knobs []envs.Knob
	value []int // fixed value index in the full space, -1 when free
}

func (r restricted) Name() string          { return r.name }
func (r restricted) Knobs() []envs.Knob    { return append([]envs.Knob(nil), r.knobs...) }
func (r restricted) MetricNames() []string { return r.ds.MetricNames() }

// lift maps a sub-space configuration to the full space.
func (r restricted) lift(cfg, full []int) error {
	if len(cfg) != len(r.knobs) {
		return fmt.Errorf("configuration has %d values, the space has %d knobs", len(cfg), len(r.knobs))
	}
	for k, v := range cfg {
		if v < 0 || v >= len(r.knobs[k].Values) {
			return fmt.Errorf("knob %s: value index %d out of range [0,%d)", r.knobs[k].Name, v, len(r.knobs[k].Values))
		}
		if r.value[k] >= 0 {
			v = r.value[k]
		}
		full[k] = v
	}
	return nil
}

func (r restricted) Evaluate(cfg []int, out []float64) error {
	full := make([]int, len(r.knobs))
	if err := r.lift(cfg, full); err != nil {
		return err
	}
	return r.ds.Evaluate(full, out)
}

type restrictedMaker struct {
	restricted
	em EvaluatorMaker
}

func (r restrictedMaker) NewEvaluator() func(cfg []int, out []float64) error {
	eval := r.em.NewEvaluator()
	full := make([]int, len(r.knobs))
	return func(cfg []int, out []float64) error {
		if err := r.lift(cfg, full); err != nil {
			return err
		}
		return eval(full, out)
	}
}

type restrictedCanonical struct {
	restricted
	c Canonicalizer
}

func (r restrictedCanonical) Canonical(cfg, rep []int) { r.canonical(r.c, cfg, rep) }

type restrictedMakerCanonical struct {
	restrictedMaker
	c Canonicalizer
}

func (r restrictedMakerCanonical) Canonical(cfg, rep []int) { r.canonical(r.c, cfg, rep) }

// canonical is the sub-space's Canonical: the full space's representative
// of cfg with the fixed knobs set back to their values, when that design is
// in cfg's class (the full space maps it to the same representative) and
// does not come after cfg; otherwise cfg itself. Every member of a class
// in the sub-space gets the same representative or itself, and the
// representative maps to itself, as Canonicalizer requires.
func (r restricted) canonical(c Canonicalizer, cfg, rep []int) {
	copy(rep, cfg)
	n := len(r.knobs)
	full := make([]int, n)
	if r.lift(cfg, full) != nil {
		return
	}
	fullRep := make([]int, n)
	c.Canonical(full, fullRep)
	forced := make([]int, n)
	copy(forced, fullRep)
	for k, v := range r.value {
		if v >= 0 {
			forced[k] = v
		}
	}
	check := make([]int, n)
	c.Canonical(forced, check)
	if !slices.Equal(check, fullRep) {
		return
	}
	sub := make([]int, n)
	for k, v := range forced {
		if r.value[k] < 0 {
			sub[k] = v
		}
	}
	if slices.Compare(sub, cfg) <= 0 { // index order is lexicographic
		copy(rep, sub)
	}
}
