package experiments

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

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
	Label   string   // column label in reports, e.g. "predprey-easy"
	Env     envs.Env // the multi-agent environment (nil when the task is a design space only)
	Primary Primary  // how reports judge a run
	// Threshold is the default value of Primary for evaluations-to-threshold
	// (NaN: none; 0 is a threshold like any other).
	Threshold float64
	// Design is set on design-space tasks: the counted space that every
	// user charges (the environment's copies, a black-box search), the
	// objective and the best/regret tracker. The runner adds its columns
	// (unique_evals, best_value, regret, ...) to every metrics row and the
	// best design to the summary.
	Design *envs.Tracker
	// Start is the start design of a design-space task (value index per
	// knob): the environment's start or reference design, evaluated first,
	// against which the summary reports the gain of the best design.
	Start []int
	// NoOptimum, on a design-space task without a known optimum, says why
	// (e.g. the space is too large to enumerate); the summary shows it in
	// place of the regret.
	NoOptimum string
	// Close releases resources (may be nil).
	Close func() error
}

// failer is implemented by environments that record a failed evaluation
// they could not report through the Env contract (envs.SpaceEnv).
type failer interface{ Failure() error }

// failure returns the first failed evaluation of the task's environment
// (nil when none, or when the environment cannot tell).
func (t *Task) failure() error {
	if f, ok := t.Env.(failer); ok {
		if err := f.Failure(); err != nil {
			return fmt.Errorf("design evaluation failed: %w", err)
		}
	}
	return nil
}

// RunInfo is what a factory receives besides its own table: the run-level
// settings that belong to no component.
type RunInfo struct {
	Seed    uint64       // the run's seed
	Threads int          // algorithm.threads (0 = GOMAXPROCS); results must not depend on it
	Budget  BudgetConfig // when the run stops
	// MaxMemory is the memory the run may plan to use (bytes; the config's
	// MaxMemory): builders refuse settings whose estimate exceeds it.
	MaxMemory int64
}

// kind is one registered environment or algorithm kind.
type kind struct {
	table    reflect.Type // the type of its [env.<kind>] / [algorithm.<kind>] table
	defaults any          // the table's default value
	buildEnv func(table any, run RunInfo) (*Task, error)
	buildAlg func(table any, task *Task, run RunInfo) (marl.Algorithm, error)
}

// validator is implemented by tables with cross-field rules (each error line
// starting with the offending key).
type validator interface{ Validate() error }

var (
	regMu  sync.RWMutex
	envReg = map[string]kind{}
	algReg = map[string]kind{}
)

func checkTable[C any](what, name string, defaults C) reflect.Type {
	t := reflect.TypeOf(defaults)
	if t == nil || t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("experiments: %s kind %q: the table type must be a struct, got %v", what, name, t))
	}
	if name == "" || !keyNameRE.MatchString(name) {
		panic(fmt.Sprintf("experiments: %s kind %q: use lower-case letters, digits and _", what, name))
	}
	return t
}

// RegisterEnv makes an environment kind available to [env] kind = "...".
// defaults is the kind's configuration with its documented defaults, a
// struct whose fields carry the toml, unit, range and doc tags (see Config);
// a file's [env.<kind>] table is decoded straight into a copy of it,
// range-checked, and checked by its Validate method when it has one. Use
// struct{}{} for a kind without options. build receives the decoded table.
// Registering a kind again replaces it.
func RegisterEnv[C any](name string, defaults C, build func(c C, run RunInfo) (*Task, error)) {
	t := checkTable("environment", name, defaults)
	regMu.Lock()
	defer regMu.Unlock()
	envReg[name] = kind{table: t, defaults: defaults, buildEnv: func(table any, run RunInfo) (*Task, error) {
		return build(table.(C), run)
	}}
}

// RegisterAlgorithm makes an algorithm kind available to [algorithm] kind =
// "..."; its [algorithm.<kind>] table works as for RegisterEnv. build
// receives the decoded table and the task built from the [env] section.
func RegisterAlgorithm[C any](name string, defaults C, build func(c C, task *Task, run RunInfo) (marl.Algorithm, error)) {
	t := checkTable("algorithm", name, defaults)
	regMu.Lock()
	defer regMu.Unlock()
	algReg[name] = kind{table: t, defaults: defaults, buildAlg: func(table any, task *Task, run RunInfo) (marl.Algorithm, error) {
		return build(table.(C), task, run)
	}}
}

// envKinds lists the registered environment kinds, sorted.
func envKinds() []string { return sortedKeys(envReg) }

// algorithmKinds lists the registered algorithm kinds, sorted.
func algorithmKinds() []string { return sortedKeys(algReg) }

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

func lookupKind(reg map[string]kind, name string) (kind, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	k, ok := reg[name]
	return k, ok
}

// checkKinds reports whether the env and algorithm kinds of cfg are
// registered, naming the key otherwise.
func checkKinds(cfg *Config) error {
	if _, ok := lookupKind(envReg, cfg.Env.Kind); !ok {
		return fmt.Errorf("key env.kind: unknown environment %q (registered: %s)", cfg.Env.Kind, strings.Join(envKinds(), ", "))
	}
	if _, ok := lookupKind(algReg, cfg.Algorithm.Kind); !ok {
		return fmt.Errorf("key algorithm.kind: unknown algorithm %q (registered: %s)", cfg.Algorithm.Kind, strings.Join(algorithmKinds(), ", "))
	}
	return nil
}

// Build constructs the task and the algorithm a config describes.
func Build(cfg *Config, seed uint64) (*Task, marl.Algorithm, error) {
	if err := checkKinds(cfg); err != nil {
		return nil, nil, err
	}
	ek, _ := lookupKind(envReg, cfg.Env.Kind)
	ak, _ := lookupKind(algReg, cfg.Algorithm.Kind)
	run := RunInfo{Seed: seed, Threads: cfg.Algorithm.Threads, Budget: cfg.Budget, MaxMemory: cfg.MaxMemory}
	task, err := ek.buildEnv(cfg.Env.Table(cfg.Env.Kind), run)
	if err != nil {
		return nil, nil, fmt.Errorf("build environment %s: %w", cfg.Env.Kind, err)
	}
	if task.Label == "" {
		task.Label = cfg.Env.Kind
	}
	if task.Primary.X == "" {
		task.Primary.X = "iteration"
	}
	if !math.IsNaN(cfg.Budget.Regret) && (task.Design == nil || task.Design.Optimum() == nil) {
		if task.Close != nil {
			_ = task.Close()
		}
		return nil, nil, fmt.Errorf("key budget.regret: task %s has no known optimum to measure regret against (set budget.regret = nan)", task.Label)
	}
	alg, err := ak.buildAlg(cfg.Algorithm.Table(cfg.Algorithm.Kind), task, run)
	if err != nil {
		if task.Close != nil {
			_ = task.Close()
		}
		return nil, nil, fmt.Errorf("build algorithm %s: %w", cfg.Algorithm.Kind, err)
	}
	return task, alg, nil
}

// labeler is implemented by algorithm tables that describe themselves in
// report rows (e.g. "commformer learned S=0.4 gate").
type labeler interface{ Label() string }

// variantLabel is the report row label of a config: cfg.Variant when set,
// otherwise the algorithm kind, refined by its table's Label method when it
// has one.
func variantLabel(cfg *Config) string {
	if cfg.Variant != "" {
		return cfg.Variant
	}
	if l, ok := cfg.Algorithm.Table(cfg.Algorithm.Kind).(labeler); ok {
		return l.Label()
	}
	return cfg.Algorithm.Kind
}

// Optional capabilities of an algorithm, discovered by type assertion.
type (
	// GraphSnapshotter returns the current communication graph as a value
	// that encodes to JSON (for the commformer trainer, a comm snapshot).
	GraphSnapshotter interface {
		GraphSnapshot() (any, error)
	}
	// Closer releases resources at the end of a run.
	Closer interface{ Close() error }
)

// tables holds the [<group>.<kind>] tables of a config, one value per
// registered kind. It is copy-on-write: a Config copied by value shares the
// map, and every change replaces it.
type tables map[string]any

func (t tables) with(name string, v any) tables {
	out := make(tables, len(t)+1)
	for k, x := range t {
		out[k] = x
	}
	out[name] = v
	return out
}

func tableOf(reg map[string]kind, t tables, name string) any {
	if v, ok := t[name]; ok {
		return v
	}
	if k, ok := lookupKind(reg, name); ok {
		return k.defaults
	}
	return nil
}

func setTableOf(reg map[string]kind, t *tables, group, name string, v any) error {
	k, ok := lookupKind(reg, name)
	if !ok {
		return fmt.Errorf("[%s.%s]: no such kind is registered", group, name)
	}
	if reflect.TypeOf(v) != k.table {
		return fmt.Errorf("[%s.%s]: a %T, want a %v", group, name, v, k.table)
	}
	*t = t.with(name, v)
	return nil
}

// Table returns the [env.<kind>] table of a registered kind (a value of the
// type it registered; its defaults unless set), nil for an unknown kind.
func (c *EnvConfig) Table(kind string) any { return tableOf(envReg, c.tables, kind) }

// SetTable replaces the [env.<kind>] table; v must have the kind's type.
func (c *EnvConfig) SetTable(kind string, v any) error {
	return setTableOf(envReg, &c.tables, "env", kind, v)
}

// Table returns the [algorithm.<kind>] table of a registered kind.
func (c *AlgorithmConfig) Table(kind string) any { return tableOf(algReg, c.tables, kind) }

// SetTable replaces the [algorithm.<kind>] table; v must have the kind's type.
func (c *AlgorithmConfig) SetTable(kind string, v any) error {
	return setTableOf(algReg, &c.tables, "algorithm", kind, v)
}
