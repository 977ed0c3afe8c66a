package experiments

// Config is one experiment run as written in a TOML file. Every leaf field
// carries its documentation in struct tags:
//
//	toml:  the key (the path is the chain of table keys)
//	unit:  the physical unit or counting unit ("" when dimensionless)
//	range: the allowed values: an interval such as "(0, 1]" or "[1, inf)",
//	       or alternatives separated by "|" for strings
//	doc:   one sentence for docs/configuration.md
//	path:  "file" for a file path, "name-or-file" for a name or a file path
//	       (a value with a path separator or an extension); LoadConfig
//	       resolves relative paths against the file's directory
//
// The same tags document the tables of the registered kinds, whose types
// live in the packages that own them. Defaults come from DefaultConfig and
// from each kind's registered defaults. docs/configuration.md is generated
// from the tags and the defaults (see schemaMarkdownOf), and a test checks that
// the committed page lists every key with its current default.
type Config struct {
	Name    string  `toml:"name" range:"non-empty; letters, digits, - _ . /" doc:"run name; the output goes to out_dir/name/seed-N/"`
	Seed    int64   `toml:"seed" range:"[0, inf)" doc:"the seed of a single run (ignored when seeds is set)"`
	Seeds   []int64 `toml:"seeds" range:"each in [0, inf)" doc:"run once per seed (overrides seed); --seed N on the command line runs only N"`
	OutDir  string  `toml:"out_dir" range:"a directory path" doc:"root of the run directories (relative paths are relative to the working directory)"`
	Variant string  `toml:"variant" range:"any text" doc:"row label in reports; empty = derived from the algorithm section"`
	Task    string  `toml:"task" range:"any text" doc:"column label in reports; empty = derived from the env section"`

	Env        EnvConfig        `toml:"env"`
	Algorithm  AlgorithmConfig  `toml:"algorithm"`
	Budget     BudgetConfig     `toml:"budget"`
	Eval       EvalConfig       `toml:"eval"`
	Log        LogConfig        `toml:"log"`
	Checkpoint CheckpointConfig `toml:"checkpoint"`

	// MaxMemory is the memory the run may plan to use, in bytes, > 0
	// (DefaultConfig: DefaultMaxMemory); not a key: it is a property of the
	// machine, not of the experiment (--max-memory, RunOptions.MaxMemory).
	MaxMemory int64 `toml:"-"`
}

// EnvConfig selects the task. Each registered kind owns an [env.KIND]
// table whose type and defaults its package defines (see RegisterEnv);
// Table and SetTable reach it from Go.
type EnvConfig struct {
	Kind   string `toml:"kind" range:"a registered kind, each with its [env.KIND] table below" doc:"the environment"`
	tables tables
}

// AlgorithmConfig selects the learner or search method. Each registered
// kind owns an [algorithm.<kind>] table (e.g. [algorithm.commformer] is
// commformer.Config with commformer.DefaultConfig's defaults).
type AlgorithmConfig struct {
	Kind    string `toml:"kind" range:"a registered kind, each with its [algorithm.KIND] table below" doc:"the algorithm: the CommFormer learner or a black-box design-space search"`
	Threads int    `toml:"threads" unit:"goroutines" range:"[0, 1024]" doc:"goroutines stepping environments, evaluating designs and splitting the commformer's PPO update; 0 = GOMAXPROCS (results do not depend on it, bit for bit)"`
	tables  tables
}

// BudgetConfig says when a run stops: at the first limit reached among
// those that are set (non-zero). At least one of the hard limits
// (iterations, env_steps, evaluations) must be set; Regret and Patience
// stop a run earlier (see earlystop.go).
type BudgetConfig struct {
	Iterations  int     `toml:"iterations" unit:"iterations" range:"[0, inf)" doc:"stop after this many iterations; 0 = no limit"`
	EnvSteps    int64   `toml:"env_steps" unit:"environment steps (summed over copies)" range:"[0, inf)" doc:"stop once the algorithm reports this many env_steps; 0 = no limit"`
	Evaluations int64   `toml:"evaluations" unit:"unique design evaluations" range:"[0, inf)" doc:"stop once the algorithm reports this many unique_evals (the DSE sample budget); 0 = no limit"`
	Regret      float64 `toml:"regret" unit:"regret (relative for minimisation, absolute for targets)" range:"[0, inf); NaN = off" doc:"stop once the best design's regret is at most this (0 = the optimum is found); needs a task with a known optimum; nan = off"`
	Patience    int     `toml:"patience" unit:"iterations" range:"[0, inf)" doc:"stop once the task's primary metric (regret or best_value for design spaces) has not improved for this many iterations; 0 = off"`
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
	// TruthSweep is the exhaustive sweep table whose measured interactions
	// the run summary compares the learned graph with.
	TruthSweep string `toml:"truth_sweep" path:"name-or-file" range:"empty, none or a path to a sweep table of the task's space" doc:"design spaces: the summary gives the learned graph's precision against the knob pairs carrying >= 1% of var(log objective metric) in this exhaustive sweep; empty = runs/sweep/<space>.sweep (where commgraph dram sweep writes it, relative to the working directory) when it exists; none = no comparison"`
}

// CheckpointConfig sets the checkpoint cadence.
type CheckpointConfig struct {
	Every int `toml:"every" unit:"iterations" range:"[1, inf)" doc:"write a checkpoint every n iterations (and on interruption and at the end)"`
	Keep  int `toml:"keep" unit:"files" range:"[1, 1000]" doc:"checkpoints kept per run (older ones are deleted)"`
}
