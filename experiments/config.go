package experiments

import "github.com/commgraph/commgraph/marl/commformer"

// Config is one experiment run as written in a TOML file. Every leaf field
// carries its documentation in struct tags:
//
//	toml:  the key (the path is the chain of table keys)
//	unit:  the physical unit or counting unit ("" when dimensionless)
//	range: the allowed values: an interval such as "(0, 1]" or "[1, inf)",
//	       or alternatives separated by "|" for strings
//	doc:   one sentence for docs/configuration.md
//
// Defaults come from DefaultConfig. docs/configuration.md is generated from
// these tags and the defaults (see SchemaMarkdown), and a test checks that the
// committed page lists every key with its current default.
type Config struct {
	Name    string  `toml:"name" range:"non-empty; letters, digits, - _ . /" doc:"run name; the output goes to out_dir/name/seed-N/"`
	Seed    int64   `toml:"seed" range:"[0, inf)" doc:"the seed of a single run (ignored when seeds is set)"`
	Seeds   []int64 `toml:"seeds" range:"each in [0, inf)" doc:"run once per seed (overrides seed); --seed N on the command line runs only N"`
	OutDir  string  `toml:"out_dir" range:"a directory path" doc:"root of the run directories (relative paths are relative to the working directory)"`
	Variant string  `toml:"variant" range:"any text" doc:"row label in reports; empty = derived from the algorithm section"`
	Task    string  `toml:"task" range:"any text" doc:"column label in reports; empty = derived from the env section"`

	Env        EnvConfig        `toml:"env"`
	Algorithm  AlgorithmConfig  `toml:"algorithm"`
	Search     SearchConfig     `toml:"search"`
	Budget     BudgetConfig     `toml:"budget"`
	Eval       EvalConfig       `toml:"eval"`
	Log        LogConfig        `toml:"log"`
	Checkpoint CheckpointConfig `toml:"checkpoint"`
}

// EnvConfig selects the task.
type EnvConfig struct {
	Kind      string          `toml:"kind" range:"a registered kind: predprey, capture, dram, synthetic" doc:"the environment; capture = predator-capture-prey"`
	PredPrey  PredPreyConfig  `toml:"predprey"`
	DRAM      DRAMConfig      `toml:"dram"`
	Synthetic SyntheticConfig `toml:"synthetic"`
}

// PredPreyConfig holds the predator-prey options (kinds predprey and capture).
type PredPreyConfig struct {
	Preset    string `toml:"preset" range:"easy|medium|hard" doc:"size preset for kind predprey (easy 5x5/3 predators, medium 10x10/5, hard 20x20/10); capture is always 5x5"`
	GridSize  int    `toml:"grid_size" unit:"cells" range:"[0, 100]" doc:"side of the square grid; 0 = the preset's"`
	Predators int    `toml:"predators" unit:"agents" range:"[0, 16]" doc:"number of predators; 0 = the preset's"`
	Vision    int    `toml:"vision" unit:"cells" range:"[-1, 10]" doc:"observation radius; -1 = the preset's (1)"`
	MaxSteps  int    `toml:"max_steps" unit:"steps" range:"[0, 100000]" doc:"episode cap (truncation); 0 = the preset's (20, 40, 80)"`
}

// DRAMConfig holds the DRAM memory-controller design-space options.
type DRAMConfig struct {
	Trace         string  `toml:"trace" range:"stream|random|cloud-1|cloud-2 or a path to an .stl file" doc:"the workload trace"`
	Objective     string  `toml:"objective" range:"latency|power|energy|edp|archgym_power|archgym_latency|archgym_both|constrained_power" doc:"what the agents optimise (see docs/environments)"`
	TargetPowerMW float64 `toml:"target_power_mw" unit:"mW" range:"(0, inf)" doc:"ArchGym power target T (objectives archgym_power, archgym_both)"`
	TargetTimeNS  float64 `toml:"target_time_ns" unit:"ns" range:"(0, inf)" doc:"ArchGym makespan target T (objectives archgym_latency, archgym_both)"`
	TimeLimitNS   float64 `toml:"time_limit_ns" unit:"ns" range:"[0, inf)" doc:"makespan constraint of constrained_power; 0 = none"`
	ArchGymCompat bool    `toml:"archgym_latency_compat" range:"true|false" doc:"reproduce the ArchGym parser's ps-read-as-ns quirk (for comparison with published runs only)"`
	EpisodeLen    int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode; 1 = the bandit form"`
	OptimumFile   string  `toml:"optimum_file" range:"a path or empty" doc:"JSON of the exhaustive optimum used for regret; empty = the shipped one for this trace and objective"`
}

// SyntheticConfig holds the options of the synthetic landscape with a
// planted interaction graph.
type SyntheticConfig struct {
	Knobs      int     `toml:"knobs" unit:"agents" range:"[2, 64]" doc:"number of knobs (agents)"`
	Values     int     `toml:"values" unit:"values per knob" range:"[2, 64]" doc:"values per knob"`
	Pairs      int     `toml:"pairs" unit:"pairs" range:"[0, 32]" doc:"planted interacting pairs (k0,k1), (k2,k3), ...; at most knobs/2"`
	Strength   float64 `toml:"strength" range:"[0, 100]" doc:"standard deviation of each planted pair term (main effects have 1)"`
	SpaceSeed  int64   `toml:"space_seed" range:"[0, inf)" doc:"seed of the landscape itself (fixed across run seeds so seeds are comparable)"`
	EpisodeLen int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode"`
}

// AlgorithmConfig selects the learner or search method. The table of the
// learner, [algorithm.commformer], decodes straight into the learner's own
// configuration type with its defaults (commformer.DefaultConfig).
type AlgorithmConfig struct {
	Kind       string            `toml:"kind" range:"a registered kind: commformer, random, genetic, aco, tpe" doc:"the algorithm: the CommFormer learner or a black-box design-space search (random search, genetic algorithm, ant colony optimisation, tree-structured Parzen estimator)"`
	Threads    int               `toml:"threads" unit:"goroutines" range:"[0, 1024]" doc:"goroutines stepping environments or evaluating designs; 0 = GOMAXPROCS (results do not depend on it)"`
	CommFormer commformer.Config `toml:"commformer"`
}

// SearchConfig holds the settings of black-box design-space searches.
type SearchConfig struct {
	Batch      int     `toml:"batch" unit:"designs per iteration" range:"[1, 100000]" doc:"designs proposed (and evaluated) per iteration"`
	Population int     `toml:"population" unit:"designs" range:"[2, 100000]" doc:"parents kept between generations of the genetic search"`
	Mutation   float64 `toml:"mutation" unit:"probability per knob" range:"[0, 1]" doc:"mutation rate of the genetic search (0 = no mutation)"`
}

// BudgetConfig says when a run stops: at the first limit reached among
// those that are set (non-zero). At least one must be set.
type BudgetConfig struct {
	Iterations  int   `toml:"iterations" unit:"iterations" range:"[0, inf)" doc:"stop after this many iterations; 0 = no limit"`
	EnvSteps    int64 `toml:"env_steps" unit:"environment steps (summed over copies)" range:"[0, inf)" doc:"stop once the algorithm reports this many env_steps; 0 = no limit"`
	Evaluations int64 `toml:"evaluations" unit:"unique design evaluations" range:"[0, inf)" doc:"stop once the algorithm reports this many unique_evals (the DSE sample budget); 0 = no limit"`
}

// EvalConfig sets the deterministic evaluation cadence.
type EvalConfig struct {
	Every     int     `toml:"every" unit:"iterations" range:"[0, inf)" doc:"evaluate every n iterations (and always after the last); 0 = only after the last"`
	Episodes  int     `toml:"episodes" unit:"episodes" range:"[1, 100000]" doc:"deterministic evaluation episodes"`
	Threshold float64 `toml:"threshold" unit:"unit of the primary metric" range:"any; NaN = none" doc:"evaluations-to-threshold in reports: first budget at which the primary metric reaches this value; nan = the task's default"`
}

// LogConfig sets what is written besides metrics (which are logged every
// iteration).
type LogConfig struct {
	GraphEvery int  `toml:"graph_every" unit:"iterations" range:"[0, inf)" doc:"write a graph snapshot every n iterations (and after the last); 0 = only after the last"`
	Timing     bool `toml:"timing" range:"true|false" doc:"include the wall-clock columns sps and wall_s in metrics (the only columns that differ between identical runs)"`
}

// CheckpointConfig sets the checkpoint cadence.
type CheckpointConfig struct {
	Every int `toml:"every" unit:"iterations" range:"[1, inf)" doc:"write a checkpoint every n iterations (and on interruption and at the end)"`
	Keep  int `toml:"keep" unit:"files" range:"[1, 1000]" doc:"checkpoints kept per run (older ones are deleted)"`
}
