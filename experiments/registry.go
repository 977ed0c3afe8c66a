package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl"
)

// Primary names the metric a task is judged by in reports.
type Primary struct {
	Name           string `json:"name"`             // a metrics column, e.g. "eval_steps" or "regret"
	HigherIsBetter bool   `json:"higher_is_better"` // direction of "better"
	X              string `json:"x"`                // budget column for curves and evaluations-to-threshold: env_steps, unique_evals or iteration
}

// Task is an environment built from the [env] section of a config.
type Task struct {
	Label   string           // column label in reports, e.g. "predprey-easy"
	Env     envs.Env         // the multi-agent environment (nil when the task is a design space only)
	Space   envs.DesignSpace // the design space, for design-space tasks (nil otherwise)
	Primary Primary          // how reports judge a run
	// Threshold is the default value of Primary for evaluations-to-threshold
	// (NaN: none).
	Threshold float64
	// Derive, when set, adds derived columns (e.g. regret against a known
	// optimum) to every metrics row before it is written.
	Derive func(row marl.Metrics)
	// Close releases resources (may be nil).
	Close func() error

	design *designTask // design-space bookkeeping of the built-in kinds
}

// EnvFactory builds a task from a config for one seed.
type EnvFactory func(cfg *Config, seed uint64) (*Task, error)

// AlgorithmFactory builds an algorithm for a task from a config and seed.
type AlgorithmFactory func(cfg *Config, task *Task, seed uint64) (marl.Algorithm, error)

var (
	regMu  sync.RWMutex
	envReg = map[string]EnvFactory{}
	algReg = map[string]AlgorithmFactory{}
)

// RegisterEnv makes an environment kind available to [env] kind = "...".
// Registering a kind again replaces it.
func RegisterEnv(kind string, f EnvFactory) {
	regMu.Lock()
	defer regMu.Unlock()
	envReg[kind] = f
}

// RegisterAlgorithm makes an algorithm kind available to [algorithm] kind = "...".
// Registering a kind again replaces it.
func RegisterAlgorithm(kind string, f AlgorithmFactory) {
	regMu.Lock()
	defer regMu.Unlock()
	algReg[kind] = f
}

// EnvKinds and AlgorithmKinds list the registered kinds, sorted.
func EnvKinds() []string { return sortedKeys(envReg) }

// AlgorithmKinds lists the registered algorithm kinds, sorted.
func AlgorithmKinds() []string { return sortedKeys(algReg) }

func sortedKeys[V any](m map[string]V) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CheckKinds reports whether the env and algorithm kinds of cfg are
// registered, naming the key otherwise.
func CheckKinds(cfg *Config) error {
	regMu.RLock()
	_, okEnv := envReg[cfg.Env.Kind]
	_, okAlg := algReg[cfg.Algorithm.Kind]
	regMu.RUnlock()
	if !okEnv {
		return fmt.Errorf("key env.kind: unknown environment %q (registered: %s)", cfg.Env.Kind, strings.Join(EnvKinds(), ", "))
	}
	if !okAlg {
		return fmt.Errorf("key algorithm.kind: unknown algorithm %q (registered: %s)", cfg.Algorithm.Kind, strings.Join(AlgorithmKinds(), ", "))
	}
	return nil
}

// Build constructs the task and the algorithm a config describes.
func Build(cfg *Config, seed uint64) (*Task, marl.Algorithm, error) {
	regMu.RLock()
	ef := envReg[cfg.Env.Kind]
	af := algReg[cfg.Algorithm.Kind]
	regMu.RUnlock()
	if ef == nil {
		return nil, nil, fmt.Errorf("key env.kind: unknown environment %q (registered: %s)", cfg.Env.Kind, strings.Join(EnvKinds(), ", "))
	}
	if af == nil {
		return nil, nil, fmt.Errorf("key algorithm.kind: unknown algorithm %q (registered: %s)", cfg.Algorithm.Kind, strings.Join(AlgorithmKinds(), ", "))
	}
	task, err := ef(cfg, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("build environment %s: %w", cfg.Env.Kind, err)
	}
	if task.Label == "" {
		task.Label = cfg.Env.Kind
	}
	if task.Primary.X == "" {
		task.Primary.X = "iteration"
	}
	if task.Threshold == 0 {
		task.Threshold = math.NaN()
	}
	alg, err := af(cfg, task, seed)
	if err != nil {
		if task.Close != nil {
			_ = task.Close()
		}
		return nil, nil, fmt.Errorf("build algorithm %s: %w", cfg.Algorithm.Kind, err)
	}
	return task, alg, nil
}

// VariantLabel is the report row label of a config: cfg.Variant when set,
// otherwise derived from the algorithm section (e.g. "commformer learned
// S=0.4 gate").
func VariantLabel(cfg *Config) string {
	if cfg.Variant != "" {
		return cfg.Variant
	}
	a := cfg.Algorithm
	if a.Kind != "commformer" {
		return a.Kind
	}
	c := a.CommFormer
	s := "commformer " + string(c.Graph)
	if c.Graph == comm.Learned || c.Graph == comm.Random {
		s += fmt.Sprintf(" S=%g", c.Sparsity)
	}
	if c.Gate {
		s += " gate"
	}
	return s
}

// Optional capabilities of an algorithm, discovered by type assertion.
type (
	// GraphSnapshotter returns the current communication graph as a value
	// that encodes to JSON (for the commformer trainer, a comm snapshot).
	GraphSnapshotter interface {
		GraphSnapshot() (any, error)
	}
	// DesignReporter reports the best design found so far.
	DesignReporter interface {
		BestDesign() (Design, bool)
	}
	// Closer releases resources at the end of a run.
	Closer interface{ Close() error }
)

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
}
