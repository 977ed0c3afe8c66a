package experiments

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
	PPO        PPOConfig        `toml:"ppo"`
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

// AlgorithmConfig selects the learner or search method and its graph.
type AlgorithmConfig struct {
	Kind       string  `toml:"kind" range:"a registered kind: commformer, random, genetic, aco, tpe" doc:"the algorithm: the CommFormer learner or a black-box design-space search (random search, genetic algorithm, ant colony optimisation, tree-structured Parzen estimator)"`
	Graph      string  `toml:"graph" range:"learned|full|none|random|file" doc:"communication graph variant: learned alpha, full (S = 1), none (self only), a fixed seeded random k-subset, or a given adjacency"`
	GraphFile  string  `toml:"graph_file" range:"a path; required when graph = file" doc:"adjacency for graph = file (JSON N x N of 0/1, rows = receivers)"`
	Sparsity   float64 `toml:"sparsity" unit:"fraction of agents" range:"(0, 1]" doc:"S: every receiver keeps k = max(floor(N*S), 1) senders"`
	Tau        float64 `toml:"tau" range:"(0, inf)" doc:"Gumbel-softmax temperature of the graph sampler"`
	Warmup     int     `toml:"warmup" unit:"iterations" range:"[0, inf)" doc:"iterations of dense, alpha-weighted communication before sampling starts"`
	PostStable bool    `toml:"post_stable" range:"true|false" doc:"freeze the graph (exact top-k, alpha no longer updated) after post_ratio of training"`
	PostRatio  float64 `toml:"post_ratio" unit:"fraction of the budget" range:"[0, 1]" doc:"when post_stable freezes the graph"`
	Gating     bool    `toml:"gating" range:"true|false" doc:"per-agent temporal gate (when to listen)"`
	GateTau    float64 `toml:"gate_tau" range:"(0, inf)" doc:"binary-concrete temperature of the gate"`
	GateCost   float64 `toml:"gate_cost" unit:"loss per open gate" range:"[0, inf)" doc:"lambda_g: communication cost added to the loss times the mean gate"`
	GateHidden int     `toml:"gate_hidden" unit:"features" range:"[1, 4096]" doc:"hidden width of the gate MLP"`
	GateBias   float64 `toml:"gate_bias" range:"[-20, 20]" doc:"initial gate-logit bias (2: gates open about 88% of the time at the start)"`
	EmbedDim   int     `toml:"embed_dim" unit:"features" range:"[1, 4096]" doc:"model width d"`
	Heads      int     `toml:"heads" range:"[1, 64]" doc:"attention heads (embed_dim must be divisible by heads)"`
	Blocks     int     `toml:"blocks" range:"[1, 64]" doc:"encoder and decoder blocks"`
	Threads    int     `toml:"threads" unit:"goroutines" range:"[0, 1024]" doc:"environment-stepping goroutines; 0 = GOMAXPROCS"`
}

// PPOConfig holds the multi-agent PPO settings (MAPPO-style).
type PPOConfig struct {
	LR           float64 `toml:"lr" range:"(0, 1]" doc:"Adam learning rate of the model"`
	AlphaLR      float64 `toml:"alpha_lr" range:"(0, 1]" doc:"Adam learning rate of the graph logits alpha (alpha_every = 0 stops alpha updates)"`
	AdamEps      float64 `toml:"adam_eps" range:"(0, 1)" doc:"Adam epsilon (both optimisers)"`
	MaxGradNorm  float64 `toml:"max_grad_norm" range:"[0, inf)" doc:"gradient-norm clip of the model (not alpha); 0 = off"`
	Epochs       int     `toml:"epochs" unit:"passes per iteration" range:"[1, 1000]" doc:"PPO epochs per iteration"`
	Minibatches  int     `toml:"minibatches" range:"[1, 1024]" doc:"minibatches per epoch (1 = full batch)"`
	AlphaEvery   int     `toml:"alpha_every" unit:"epochs" range:"[0, 1000]" doc:"every n-th epoch is an alpha step instead of a model step; 0 = never update alpha"`
	Clip         float64 `toml:"clip" range:"(0, 1)" doc:"PPO ratio clip epsilon"`
	Gamma        float64 `toml:"gamma" range:"(0, 1]" doc:"discount factor"`
	GAELambda    float64 `toml:"gae_lambda" range:"(0, 1]" doc:"GAE lambda"`
	ValueCoef    float64 `toml:"value_coef" range:"(0, inf)" doc:"value-loss coefficient"`
	EntropyCoef  float64 `toml:"entropy_coef" range:"[0, inf)" doc:"entropy bonus coefficient"`
	HuberDelta   float64 `toml:"huber_delta" range:"(0, inf)" doc:"Huber delta of the clipped value loss"`
	NumEnvs      int     `toml:"num_envs" unit:"environments" range:"[1, 4096]" doc:"environment copies stepped in parallel per rollout"`
	RolloutSteps int     `toml:"rollout_steps" unit:"steps per environment" range:"[1, 100000]" doc:"steps per environment copy per iteration (batch = num_envs x rollout_steps)"`
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
