package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/dram/optimum"
	"github.com/commgraph/commgraph/envs/predprey"
	"github.com/commgraph/commgraph/envs/synthetic"
	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/blackbox"
	"github.com/commgraph/commgraph/marl/commformer"
)

// The built-in kinds. Each is a small adapter from the TOML sections to the
// constructors of the packages that own the maths.
func init() {
	RegisterEnv("predprey", buildPredPrey)
	RegisterEnv("capture", buildPredPrey)
	RegisterEnv("dram", buildDRAM)
	RegisterEnv("synthetic", buildSynthetic)
	RegisterAlgorithm("commformer", buildCommFormer)
	for _, kind := range blackbox.Kinds() {
		RegisterAlgorithm(kind, buildSearch(kind))
	}
}

// buildSearch adapts the black-box baselines (random search, genetic
// algorithm, ant colony optimisation) to the design-space tasks: they share
// the task's evaluation cache, so budgets and regret are charged alike.
func buildSearch(kind string) AlgorithmFactory {
	return func(cfg *Config, task *Task, seed uint64) (marl.Algorithm, error) {
		d := task.design
		if d == nil {
			return nil, fmt.Errorf("key algorithm.kind: %s searches a design space; env.kind %s is not one", kind, cfg.Env.Kind)
		}
		bc := blackbox.Config{Batch: cfg.Search.Batch, Workers: cfg.Algorithm.Threads, Budget: int(cfg.Budget.Evaluations)}
		bc.Genetic.Population = cfg.Search.Population
		bc.Genetic.Mutation = cfg.Search.Mutation
		if cfg.Search.Mutation == 0 {
			bc.Genetic.Mutation = -1 // the package reads 0 as "default"
		}
		if d.opt != nil {
			v := d.opt.value
			bc.Optimum = &v
		}
		s, err := blackbox.New(kind, d.counted, d.obj, bc, seed)
		if err != nil {
			return nil, err
		}
		return &searchRun{Search: s, design: d}, nil
	}
}

// searchRun adds the best design to a black-box search.
type searchRun struct {
	*blackbox.Search
	design *designTask
}

func (r *searchRun) BestDesign() (Design, bool) { return r.design.best() }

// DefaultRegretThreshold is the default evaluations-to-threshold target of
// design-space tasks: a design within 1% of the exhaustive optimum.
const DefaultRegretThreshold = 0.01

func buildPredPrey(cfg *Config, seed uint64) (*Task, error) {
	p := cfg.Env.PredPrey
	preset := p.Preset
	if cfg.Env.Kind == "capture" {
		preset = "capture"
	}
	pc, err := predprey.Preset(preset)
	if err != nil {
		return nil, fmt.Errorf("key env.predprey.preset: %w", err)
	}
	if p.GridSize > 0 {
		pc.Dim = p.GridSize
	}
	if p.Predators > 0 {
		pc.Predators = p.Predators
	}
	if p.Vision >= 0 {
		pc.Vision = p.Vision
	}
	if p.MaxSteps > 0 {
		pc.MaxSteps = p.MaxSteps
	}
	if p.GridSize > 0 || p.Predators > 0 || p.Vision >= 0 || p.MaxSteps > 0 {
		pc.Name = "" // no longer the preset
	}
	env, err := predprey.New(pc)
	if err != nil {
		return nil, fmt.Errorf("[env.predprey]: %w", err)
	}
	label := "predprey-" + preset
	if preset == "capture" {
		label = "predator-capture-prey"
	}
	if pc.Name == "" {
		label = fmt.Sprintf("%s-%dx%d-n%d-v%d", label, pc.Dim, pc.Dim, pc.Predators, pc.Vision)
	}
	// Issue 4's learning target: mean evaluation steps to finish below 10
	// on the easy preset (cap 20); half the cap elsewhere.
	thr := float64(pc.MaxSteps) / 2
	return &Task{Label: label, Env: env, Threshold: thr,
		Primary: Primary{Name: "eval_length", HigherIsBetter: false, X: "env_steps"}}, nil
}

// designTask holds what the design-space adapters share.
type designTask struct {
	counted *envs.Counted
	obj     *envs.Objective
	knobs   []envs.Knob
	metrics []string
	opt     *knownOptimum
}

// knownOptimum is the exhaustive optimum of a task's objective.
type knownOptimum struct {
	value   float64
	knobs   map[string]string
	metrics map[string]float64
}

// regret is relative for minimisation objectives ((v - opt)/opt, so 0.01 =
// 1% worse than the optimum) and absolute for target objectives (whose value
// is a dimensionless distance from the target, possibly 0 at the optimum).
func (d *designTask) regret(v float64) float64 {
	if d.obj.Kind() == envs.KindTarget || d.opt.value == 0 {
		return v - d.opt.value
	}
	return (v - d.opt.value) / math.Abs(d.opt.value)
}

func newSpaceTask(label string, ds envs.DesignSpace, obj *envs.Objective, episodeLen int, opt *knownOptimum, obsMetrics ...string) (*Task, *designTask, error) {
	counted := envs.NewCounted(ds)
	env, err := envs.NewSpaceEnv(counted, envs.SpaceEnvConfig{Objective: obj, EpisodeLength: episodeLen, ObsMetrics: obsMetrics})
	if err != nil {
		return nil, nil, err
	}
	d := &designTask{counted: counted, obj: env.Objective(), knobs: ds.Knobs(), metrics: ds.MetricNames(), opt: opt}
	t := &Task{Label: label, Env: env, Space: counted,
		Primary: Primary{Name: "best_value", HigherIsBetter: false, X: "unique_evals"}, Threshold: math.NaN()}
	if opt != nil {
		t.Primary.Name = "regret"
		t.Threshold = DefaultRegretThreshold
	}
	t.design = d
	return t, d, nil
}

func dramObjective(c DRAMConfig) (envs.ObjectiveConfig, bool, error) {
	preset := c.Objective
	if preset == "constrained_power" {
		if c.TimeLimitNS <= 0 {
			return envs.ObjectiveConfig{}, false, errors.New("key env.dram.time_limit_ns: constrained_power needs a makespan limit > 0")
		}
		return envs.ObjectiveConfig{Name: "constrained_power", Kind: envs.KindConstrained, Metrics: []string{envs.MetricPower},
			Constraints: []envs.Constraint{{Metric: envs.MetricTime, Max: c.TimeLimitNS}}, ArchGymLatencyCompat: c.ArchGymCompat}, false, nil
	}
	oc, err := envs.ObjectivePreset(preset)
	if err != nil {
		return oc, false, fmt.Errorf("key env.dram.objective: %w", err)
	}
	standard := true
	if oc.Kind == envs.KindTarget {
		for _, m := range oc.Metrics {
			switch m {
			case envs.MetricPower:
				oc.Targets = append(oc.Targets, c.TargetPowerMW)
				standard = standard && c.TargetPowerMW == 1000
			case envs.MetricTime:
				oc.Targets = append(oc.Targets, c.TargetTimeNS)
				standard = standard && c.TargetTimeNS == 100000
			}
		}
	}
	oc.ArchGymLatencyCompat = c.ArchGymCompat
	standard = standard && !c.ArchGymCompat
	return oc, standard, nil
}

func buildDRAM(cfg *Config, seed uint64) (*Task, error) {
	c := cfg.Env.DRAM
	space, err := dram.NewTraceSpace(c.Trace)
	if err != nil {
		return nil, fmt.Errorf("key env.dram.trace: %w", err)
	}
	oc, standard, err := dramObjective(c)
	if err != nil {
		return nil, err
	}
	obj, err := oc.Bind(space.MetricNames())
	if err != nil {
		return nil, fmt.Errorf("key env.dram.objective: %w", err)
	}
	var opt *knownOptimum
	if standard || c.OptimumFile != "" {
		opt, err = dramOptimum(c, space.Trace().Name)
		if err != nil && c.OptimumFile != "" {
			return nil, err
		}
	}
	label := "dram-" + space.Trace().Name + "-" + c.Objective
	task, _, err := newSpaceTask(label, space, obj, c.EpisodeLen, opt)
	return task, err
}

// dramOptimum loads the exhaustive optimum (shipped or from a file); nil
// without error when none is shipped for the trace.
func dramOptimum(c DRAMConfig, trace string) (*knownOptimum, error) {
	var f *optimum.File
	var err error
	if c.OptimumFile != "" {
		data, rerr := os.ReadFile(c.OptimumFile)
		if rerr != nil {
			return nil, fmt.Errorf("key env.dram.optimum_file: %w", rerr)
		}
		f, err = optimum.Parse(data, c.OptimumFile)
	} else {
		f, err = optimum.Load(trace)
	}
	if err != nil {
		return nil, fmt.Errorf("key env.dram.optimum_file: %w", err)
	}
	e, err := f.Entry(c.Objective)
	if err != nil {
		return nil, fmt.Errorf("key env.dram.optimum_file: %w", err)
	}
	return &knownOptimum{value: e.Value, knobs: e.Config, metrics: map[string]float64{
		dram.MetricTimeNS: e.Metrics.TimeNS, dram.MetricEnergyPJ: e.Metrics.EnergyPJ, dram.MetricPowerMW: e.Metrics.PowerMW}}, nil
}

// maxEnumerate bounds the synthetic spaces whose optimum is found by
// enumeration when the task is built.
const maxEnumerate = 1 << 20

func buildSynthetic(cfg *Config, seed uint64) (*Task, error) {
	c := cfg.Env.Synthetic
	sc := synthetic.Config{Name: fmt.Sprintf("synthetic-%dx%d", c.Knobs, c.Values), Seed: uint64(c.SpaceSeed)}
	for range c.Knobs {
		sc.Values = append(sc.Values, c.Values)
	}
	for i := range c.Pairs {
		sc.Pairs = append(sc.Pairs, synthetic.Pair{A: 2 * i, B: 2*i + 1, S: c.Strength})
	}
	space, err := synthetic.New(sc)
	if err != nil {
		return nil, fmt.Errorf("[env.synthetic]: %w", err)
	}
	obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
	if err != nil {
		return nil, err
	}
	var opt *knownOptimum
	if envs.Size(space) <= maxEnumerate {
		opt, err = enumerateOptimum(space, obj)
		if err != nil {
			return nil, err
		}
	}
	// Observe only exp(y): y itself can be zero or negative at the start
	// design, and the adapter observes logs of metrics relative to it.
	task, _, err := newSpaceTask(sc.Name, space, obj, c.EpisodeLen, opt, synthetic.MetricExpY)
	return task, err
}

// enumerateOptimum evaluates every configuration of a small space (ties go
// to the first in counting order, last knob fastest).
func enumerateOptimum(ds envs.DesignSpace, obj *envs.Objective) (*knownOptimum, error) {
	knobs := ds.Knobs()
	cfg := make([]int, len(knobs))
	out := make([]float64, len(ds.MetricNames()))
	best, bestV := []int(nil), math.Inf(1)
	var bestM []float64
	for {
		if err := ds.Evaluate(cfg, out); err != nil {
			return nil, err
		}
		if v := obj.Value(out); v < bestV {
			best, bestV, bestM = slices.Clone(cfg), v, slices.Clone(out)
		}
		i := len(cfg) - 1
		for i >= 0 {
			cfg[i]++
			if cfg[i] < len(knobs[i].Values) {
				break
			}
			cfg[i] = 0
			i--
		}
		if i < 0 {
			break
		}
	}
	o := &knownOptimum{value: bestV, knobs: map[string]string{}, metrics: map[string]float64{}}
	for k, v := range best {
		o.knobs[knobs[k].Name] = knobs[k].Values[v]
	}
	for j, m := range ds.MetricNames() {
		o.metrics[m] = bestM[j]
	}
	return o, nil
}

// commFormerConfig returns the learner's configuration of a run: the
// [algorithm.commformer] table as decoded, with the run-level settings the
// learner needs (threads, and the planned iterations that place the
// post_stable freeze, from the budget).
func commFormerConfig(cfg *Config) commformer.Config {
	cc := cfg.Algorithm.CommFormer
	cc.Workers = cfg.Algorithm.Threads
	cc.Iterations = cfg.Budget.Iterations
	if cc.Iterations == 0 && cfg.Budget.EnvSteps > 0 {
		per := int64(cc.Envs * cc.Steps)
		cc.Iterations = int((cfg.Budget.EnvSteps + per - 1) / per)
	}
	return cc
}

func buildCommFormer(cfg *Config, task *Task, seed uint64) (marl.Algorithm, error) {
	if task.Env == nil {
		return nil, fmt.Errorf("commformer needs a multi-agent environment; %s is not one", task.Label)
	}
	tr, err := commformer.New(task.Env, commFormerConfig(cfg), seed)
	if err != nil {
		return nil, err
	}
	r := &learnerRun{Trainer: tr}
	r.design = task.design
	return r, nil
}

// learnerRun adapts a commformer.Trainer to the runner: it adds the design
// columns (unique_evals, best_value, regret) on design-space tasks, saves
// the evaluation cache with the trainer state (so unique_evals continue
// exactly after a resume), and exposes graph snapshots and the best design.
type learnerRun struct {
	*commformer.Trainer
	design *designTask
}

func (r *learnerRun) Iterate(ctx context.Context) (marl.Metrics, error) {
	m, err := r.Trainer.Iterate(ctx)
	if err != nil {
		return nil, err
	}
	r.addDesignColumns(m)
	return m, nil
}

func (r *learnerRun) Evaluate(ctx context.Context, episodes int) (marl.Metrics, error) {
	m, err := r.Trainer.Evaluate(ctx, episodes)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (r *learnerRun) addDesignColumns(m marl.Metrics) {
	d := r.design
	if d == nil {
		return
	}
	m["unique_evals"] = float64(d.counted.Unique())
	if best, ok := d.best(); ok {
		m["best_value"] = best.Objective
		if best.Regret != nil {
			m["regret"] = *best.Regret
		}
	}
}

// best returns the best evaluated design (lowest objective value; ties to
// the lexicographically smallest configuration).
func (d *designTask) best() (Design, bool) {
	recs := d.counted.Records()
	bi, bv := -1, math.Inf(1)
	for i, rec := range recs {
		if v := d.obj.Value(rec.Metrics); v < bv && d.obj.Feasible(rec.Metrics) {
			bi, bv = i, v
		}
	}
	if bi < 0 {
		return Design{}, false
	}
	rec := recs[bi]
	des := Design{Knobs: map[string]string{}, Index: slices.Clone(rec.Config), Metrics: map[string]float64{}, Objective: bv}
	for k, v := range rec.Config {
		des.Names = append(des.Names, d.knobs[k].Name)
		des.Knobs[d.knobs[k].Name] = d.knobs[k].Values[v]
	}
	for j, name := range d.metrics {
		des.Metrics[name] = rec.Metrics[j]
	}
	if d.opt != nil {
		reg := d.regret(bv)
		des.Regret = &reg
		des.Optimum = d.opt.knobs
		des.OptMetric = d.opt.metrics
	}
	return des, true
}

func (r *learnerRun) BestDesign() (Design, bool) {
	if r.design == nil {
		return Design{}, false
	}
	return r.design.best()
}

func (r *learnerRun) GraphSnapshot() (any, error) { return r.Trainer.Snapshot() }

// Checkpoint is the trainer's checkpoint with the design-evaluation cache.
func (r *learnerRun) Checkpoint() (*marl.Checkpoint, error) {
	c, err := r.Trainer.Checkpoint()
	if err != nil {
		return nil, err
	}
	if r.design != nil {
		c.Evaluations = r.design.counted.Records()
	}
	return c, nil
}

// Restore restores a state returned by Checkpoint.
func (r *learnerRun) Restore(c *marl.Checkpoint) error {
	if err := r.Trainer.Restore(c); err != nil {
		return err
	}
	if r.design != nil {
		return r.design.counted.Restore(c.Evaluations)
	}
	return nil
}
