package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/commgraph/commgraph/envs"
)

// defaultRegretThreshold is the default evaluations-to-threshold target of
// design-space tasks with a known optimum: a design within 1% of it.
const defaultRegretThreshold = 0.01

// DesignProblem is a design space with what a run needs to search it: the
// objective, the optional known optimum, and the form of the multi-agent
// environment that learners see (one agent per knob).
type DesignProblem struct {
	Label     string           // report column label, e.g. "dram-random-latency"
	Space     envs.DesignSpace // evaluated through a Counted cache shared by every user
	Objective *envs.Objective  // bound to Space's metric names
	Optimum   *envs.Optimum    // nil when unknown
	NoOptimum string           // when Optimum is nil, why (shown in the summary instead of the regret)
	// Env is the environment form (episode length, start design, observed
	// metrics ...); its Objective is set from the field above.
	Env envs.SpaceEnvConfig
	// Revision, when not nil, selects the design-revision form instead
	// (envs.RevisionEnv: random starts, pinned knobs, improvement reward);
	// its Objective is set from the field above and Env is ignored.
	Revision *envs.RevisionConfig
}

// RegisterDesignSpace makes a design-space kind available to [env] kind =
// "...": build returns the problem for the decoded [env.<kind>] table
// (defaults and tags as for RegisterEnv), and the task is the space seen as
// an environment, with the counted space, objective and best/regret
// tracker in Task.Design, so that the learner and every black-box search
// work on it and report alike.
func RegisterDesignSpace[C any](name string, defaults C, build func(c C, run RunInfo) (*DesignProblem, error)) {
	RegisterEnv(name, defaults, func(c C, run RunInfo) (*Task, error) {
		p, err := build(c, run)
		if err != nil {
			return nil, err
		}
		return newDesignTask(p)
	})
}

// newDesignTask builds the task of a design problem: the space behind a
// Counted cache, the environment over it (which evaluates the start design
// once), and the tracker. Its primary metric is regret when the optimum is
// known (threshold defaultRegretThreshold), otherwise the best objective
// value (no threshold), against unique evaluations.
func newDesignTask(p *DesignProblem) (*Task, error) {
	if p == nil || p.Space == nil || p.Objective == nil {
		return nil, fmt.Errorf("design problem: nil space or objective")
	}
	counted := envs.NewCounted(p.Space)
	var env envs.Env
	var obj *envs.Objective
	start := p.Env.Start
	if p.Revision != nil {
		start = p.Revision.Reference
		rc := *p.Revision
		rc.Objective = p.Objective
		re, err := envs.NewRevisionEnv(counted, rc)
		if err != nil {
			return nil, err
		}
		env, obj = re, re.Objective()
	} else {
		ec := p.Env
		ec.Objective = p.Objective
		se, err := envs.NewSpaceEnv(counted, ec)
		if err != nil {
			return nil, err
		}
		env, obj = se, se.Objective()
	}
	tr, err := envs.NewTracker(counted, obj, p.Optimum)
	if err != nil {
		return nil, err
	}
	label := p.Label
	if label == "" {
		label = p.Space.Name()
	}
	if start == nil {
		start = make([]int, len(p.Space.Knobs())) // the environments' default
	}
	t := &Task{Label: label, Env: env, Design: tr, Start: slices.Clone(start), Threshold: math.NaN(), NoOptimum: p.NoOptimum,
		Primary: Primary{Name: "best_value", HigherIsBetter: false, X: "unique_evals"}}
	switch {
	case p.Revision != nil && p.Revision.Oracle != nil:
		// The revision form is judged by the final design of its episodes:
		// the mean regret against the best design for the pinned knobs.
		t.Primary = Primary{Name: "eval_final_regret", HigherIsBetter: false, X: "env_steps"}
	case p.Revision != nil && p.Revision.Start != "elite":
		t.Primary = Primary{Name: "eval_final_gain", HigherIsBetter: true, X: "env_steps"}
	case p.Optimum != nil:
		t.Primary.Name = "regret"
		t.Threshold = defaultRegretThreshold
	}
	return t, nil
}

// bestDesign describes the tracker's best design for the summary: its
// metrics, regret, when it was found (from the run's metrics rows) and its
// gain over the start design (see describeOutcome).
func bestDesign(tr *envs.Tracker, rows []Row, start []int, noOptimum string) (Design, bool) {
	b, ok := tr.Best()
	if !ok {
		return Design{}, false
	}
	knobs := tr.Space().Knobs()
	d := Design{Knobs: map[string]string{}, Index: slices.Clone(b.Config), Metrics: map[string]float64{}, Objective: b.Value, Unit: summaryUnit(tr.Objective().Unit())}
	for k, v := range b.Config {
		d.Names = append(d.Names, knobs[k].Name)
		d.Knobs[knobs[k].Name] = knobs[k].Values[v]
	}
	for j, name := range tr.Space().MetricNames() {
		d.Metrics[name] = b.Metrics[j]
	}
	if opt := tr.Optimum(); opt != nil {
		reg := b.Regret
		d.Regret = &reg
		d.Optimum = opt.Knobs
		d.OptMetric = opt.Metrics
		d.OptimumTies = opt.Ties
	} else {
		d.NoOptimum = noOptimum
	}
	describeOutcome(&d, tr, b, rows, start)
	return d, true
}

// Design is a point of a design space with its metrics.
type Design struct {
	Names     []string           `json:"names"`                 // knob names in the space order
	Knobs     map[string]string  `json:"knobs"`                 // knob name -> value
	Index     []int              `json:"index"`                 // value index per knob
	Metrics   map[string]float64 `json:"metrics"`               // physical metrics (time_ns, power_mW ...)
	Objective float64            `json:"objective"`             // objective value (envs.Objective.Value: physical units, lower is better)
	Regret    *float64           `json:"regret,omitempty"`      // against the known optimum, when known
	Optimum   map[string]string  `json:"optimum,omitempty"`     // the known optimum's knobs
	OptMetric map[string]float64 `json:"opt_metrics,omitempty"` // the known optimum's metrics
	// OptimumTies counts the designs tying with the known optimum (its
	// objective value and violation), when known.
	OptimumTies int `json:"optimum_ties,omitempty"`
	// NoOptimum says why no regret is given when the task knows it (e.g.
	// a space too large to enumerate).
	NoOptimum string `json:"no_optimum,omitempty"`
	Unit      string `json:"objective_unit,omitempty"` // unit of Objective (envs.Objective.Unit)
	Outcome
}

// summaryUnit keeps envs.Objective.Unit when every factor is a unit the
// metric names of this project use, else returns "": Unit takes the text
// after a metric name's last underscore, which for a name like the
// synthetic space's exp_y is no unit ("y").
func summaryUnit(u string) string {
	if u == "" || u == "1" {
		return u
	}
	for f := range strings.SplitSeq(u, "*") {
		switch f {
		case "ns", "ps", "us", "ms", "s", "pJ", "nJ", "uJ", "mJ", "J", "mW", "W", "Gbps", "Hz", "MHz", "1":
		default:
			return ""
		}
	}
	return u
}
