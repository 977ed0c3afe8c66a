package commformer

import (
	"errors"
	"fmt"
	"math"

	"github.com/commgraph/commgraph/comm"
)

// Config holds every knob of the CommFormer learner (spec sections 1-4).
// DefaultConfig is the one place its defaults live; a Config is used as
// given (no field is filled in) and Validate says what is out of range.
//
// The struct tags document each field for the run files of experiments,
// which decode the [algorithm.commformer] table straight into this type:
//
//	toml:  the key ("-" = not a file key; set by the caller)
//	unit:  the physical or counting unit ("" when dimensionless)
//	range: the allowed values: an interval such as "(0, 1]" or
//	       alternatives separated by "|"
//	doc:   one sentence for docs/configuration.md
type Config struct {
	// Model (spec section 1).
	Embed  int `toml:"embed_dim" unit:"features" range:"[1, 4096]" doc:"model width d"`
	Heads  int `toml:"heads" range:"[1, 64]" doc:"attention heads (embed_dim must be divisible by heads)"`
	Blocks int `toml:"blocks" range:"[1, 64]" doc:"encoder and decoder blocks"`

	// Communication graph (spec section 1).
	Graph      comm.Variant `toml:"graph" range:"learned|full|none|random|file" doc:"communication graph variant: learned alpha, full (S = 1), none (self only), a fixed seeded random k-subset, or a given adjacency"`
	GraphFile  string       `toml:"graph_file" range:"a path; required when graph = file" doc:"adjacency for graph = file (JSON N x N of 0/1, rows = receivers); read when the trainer is built unless Adjacency is set"`
	Sparsity   float64      `toml:"sparsity" unit:"fraction of other agents" range:"(0, 1]" doc:"S: every receiver hears itself and k = max(floor((N-1)*S), 1) other agents"`
	Senders    int          `toml:"senders" unit:"agents" range:"[0, 4096]" doc:"k, the number of other agents each receiver hears, set directly (overrides sparsity); 0 = from sparsity"`
	Tau        float64      `toml:"tau" range:"(0, inf)" doc:"Gumbel-softmax temperature of the graph sampler"`
	Warmup     int          `toml:"warmup" unit:"iterations" range:"[0, inf)" doc:"iterations of dense, alpha-weighted communication before sampling starts; 0 = none"`
	PostStable bool         `toml:"post_stable" range:"true|false" doc:"freeze the graph (exact top-k, alpha no longer updated) after post_ratio of training"`
	PostRatio  float64      `toml:"post_ratio" unit:"fraction of the budget" range:"[0, 1]" doc:"when post_stable freezes the graph"`
	// Adjacency is the file variant's matrix (rows = receivers); when nil,
	// the trainer reads GraphFile.
	Adjacency [][]float64 `toml:"-"`

	// Bi-level optimisation (spec section 2).
	AlphaLR    float64 `toml:"alpha_lr" range:"(0, 1]" doc:"Adam learning rate of the graph logits alpha"`
	AlphaEvery int     `toml:"alpha_every" unit:"epochs" range:"[0, 1000]" doc:"every n-th epoch is an alpha step instead of a model step; 0 = never update alpha"`
	// AlphaValueCoef weighs the value loss in alpha steps (ValueCoef in
	// model steps). 0 makes the graph serve the actors only: the critic
	// shares the encoder and wants every agent's information, which is not
	// what an agent needs to act.
	// AlphaStart delays the graph's learning: before this iteration alpha
	// is not updated (the model first learns to use the warm-up's dense
	// messages; the gradient of alpha at an untrained model is noise).
	AlphaStart int `toml:"alpha_start" unit:"iterations" range:"[0, inf)" doc:"first iteration at which alpha is updated (the model first learns to use the warm-up's dense messages)"`
	// AlphaDecay decays the alpha learning rate linearly from alpha_lr at
	// alpha_start to 0 at the end of the warm-up (or of the run, without
	// one), so that the graph settles instead of following the last
	// minibatches' noise.
	AlphaDecay bool `toml:"alpha_decay" range:"true|false" doc:"decay alpha_lr linearly to 0 between alpha_start and the end of the warm-up (or of the run)"`
	// AlphaSource chooses how alpha is set: "gradient" (CommFormer: Adam
	// steps on the PPO loss through the relaxed adjacency) or "influence"
	// (measured: alpha is the log of the running mean of Trainer.Influence,
	// the causal effect of each sender on each receiver's policy, taken on
	// a dense unweighted warm-up graph every InfluenceEvery iterations from
	// AlphaStart to the end of the warm-up; the exact graph is its top-k) or
	// "payoff" (measured: alpha is the log interaction F statistic of each
	// receiver's reward by its own and the sender's action over the
	// warm-up's rollouts, payoff.go; dense unweighted warm-up graph too).
	AlphaSource string `toml:"alpha_source" range:"gradient|influence|payoff" doc:"how the graph logits are set: gradient = CommFormer's bi-level Adam steps on the PPO loss; influence = the log of the mean measured influence of each sender on each receiver's policy (KL with the sender removed, I2C-style) over the warm-up, on a dense unweighted warm-up graph; payoff = the log interaction F statistic of each receiver's reward laid out by its own and the sender's action, accumulated over the warm-up's rollouts (CASEC-style pair-payoff variation, no model needed, so the graph can freeze early)"`
	// AlphaSymmetric ties the logits of the two directions of a pair
	// (alpha_ij = alpha_ji): for tasks whose interactions are symmetric,
	// such as design spaces (a pair term f(x_i, x_j) makes each knob's best
	// value depend on the other's), so that both directions' evidence
	// decides both edges. Gradient: the two entries' gradients are
	// averaged; influence: after the last measurement the logits become the
	// pair scores of pairScores (row-centred log mean influences, summed
	// over both directions).
	AlphaSymmetric bool    `toml:"alpha_symmetric" range:"true|false" doc:"tie alpha_ij = alpha_ji (interactions that are symmetric, e.g. design-space pairs): the gradients of both directions are averaged; with alpha_source = influence, at the last measurement each logit becomes the pair score c_ij + c_ji of the row-centred log mean influences (both receivers' evidence, each on its own scale)"`
	InfluenceEvery int     `toml:"influence_every" unit:"iterations" range:"[1, 1000]" doc:"alpha_source = influence: iterations between influence measurements (each costs N+1 teacher-forced acting passes over the rollout)"`
	AlphaValueCoef float64 `toml:"alpha_value_coef" range:"[0, inf)" doc:"value-loss weight in alpha steps (0: the graph is learned from the policy loss only)"`

	// Temporal gate (spec section 3).
	Gate       bool    `toml:"gating" range:"true|false" doc:"per-agent temporal gate (when to listen)"`
	GateTau    float64 `toml:"gate_tau" range:"(0, inf)" doc:"binary-concrete temperature of the gate"`
	GateLambda float64 `toml:"gate_cost" unit:"loss per open gate" range:"[0, inf)" doc:"lambda_g: communication cost added to the loss times the mean gate"`
	GateHidden int     `toml:"gate_hidden" unit:"features" range:"[1, 4096]" doc:"hidden width of the gate MLP"`
	GateBias   float64 `toml:"gate_bias" range:"[-20, 20]" doc:"initial gate-logit bias (2: gates open about 88% of the time at the start)"`
	GateStart  int     `toml:"gate_start" unit:"iterations" range:"[0, inf)" doc:"the gates are held open, and not trained, before this iteration (the model first learns to read messages); 0 = gated from the start"`
	// GateEstimator selects how the gate learns: "straight_through" (the
	// binary-concrete relaxation: deterministic gates while acting, noisy
	// relaxed gates in the loss) or "score" (the gate is a stochastic
	// decision of the agent: sampled while acting, its log-probability
	// joins the action's in the PPO ratio; comm.GateConfig.Score).
	GateEstimator string  `toml:"gate_estimator" range:"straight_through|score" doc:"how the gate learns: straight_through = binary-concrete relaxation with a straight-through gradient (acting gates are deterministic); score = the gate is sampled while acting and trained by PPO on its log-probability (score function), the cost on the open probability"`
	GateEntropy   float64 `toml:"gate_entropy" range:"[0, inf)" doc:"gate_estimator = score: bonus on the gates' Bernoulli entropy (keeps them exploring)"`

	// PPO (spec section 4).
	LR float64 `toml:"lr" range:"(0, 1]" doc:"Adam learning rate of the model (the starting value with target_kl)"`
	// TargetKL adapts the model's learning rate to the size of the policy
	// step: after each iteration's update, lr is divided by 1.5 when the
	// update's mean approximate KL exceeds 2 x TargetKL and multiplied by
	// 1.5 when it is below TargetKL / 2, within [LRMin, LRMax]. This is the
	// adaptive-coefficient rule of PPO's KL-penalty variant (Schulman et
	// al. 2017, "Proximal Policy Optimization Algorithms", section 4)
	// applied to the step size, as in the adaptive schedule of Rudin et
	// al. 2022 ("Learning to Walk in Minutes Using Massively Parallel Deep
	// RL"). The current rate is part of the model optimiser's checkpointed
	// state, so resumes stay exact.
	TargetKL    float64 `toml:"target_kl" range:"[0, inf)" doc:"adaptive learning rate of the model: after each iteration's update lr is divided by 1.5 when the update's mean approximate KL exceeds 2 x target_kl and multiplied by 1.5 when it is below target_kl / 2, within [lr_min, lr_max] (PPO's adaptive-KL rule applied to the step size); 0 = constant lr"`
	LRMin       float64 `toml:"lr_min" range:"(0, 1]" doc:"target_kl > 0: lowest adaptive learning rate (at most lr)"`
	LRMax       float64 `toml:"lr_max" range:"(0, 1]" doc:"target_kl > 0: highest adaptive learning rate (at least lr)"`
	AdamEps     float64 `toml:"adam_eps" range:"(0, 1)" doc:"Adam epsilon (both optimisers)"`
	MaxGradNorm float64 `toml:"max_grad_norm" range:"[0, inf)" doc:"gradient-norm clip of the model (not alpha); 0 = off"`
	Epochs      int     `toml:"epochs" unit:"passes per iteration" range:"[1, 1000]" doc:"PPO epochs per iteration"`
	Minibatches int     `toml:"minibatches" range:"[1, 1024]" doc:"minibatches per epoch (1 = full batch; at most num_envs x rollout_steps)"`
	Clip        float64 `toml:"clip" range:"(0, 1)" doc:"PPO ratio and value clip epsilon (the reference uses 0.05 on predator-prey)"`
	Gamma       float64 `toml:"gamma" range:"(0, 1]" doc:"discount factor"`
	Lambda      float64 `toml:"gae_lambda" range:"[0, 1]" doc:"GAE lambda"`
	ValueCoef   float64 `toml:"value_coef" range:"(0, inf)" doc:"value-loss coefficient"`
	EntropyCoef float64 `toml:"entropy_coef" range:"[0, inf)" doc:"entropy bonus coefficient (at the start, with entropy_decay)"`
	// EntropyDecay and EntropyFinal anneal the entropy bonus: linearly from
	// EntropyCoef at iteration 0 to EntropyFinal at iteration EntropyDecay,
	// then constant, so that the policies explore before they commit.
	EntropyDecay int     `toml:"entropy_decay" unit:"iterations" range:"[0, inf)" doc:"iterations over which the entropy bonus falls linearly from entropy_coef to entropy_final; 0 = constant entropy_coef"`
	EntropyFinal float64 `toml:"entropy_final" range:"[0, inf)" doc:"entropy bonus coefficient from iteration entropy_decay on (used only with entropy_decay > 0)"`
	// EntropyTarget puts a floor under the policies' exploration: after each
	// iteration's update whose mean policy entropy is below EntropyTarget
	// times the uniform policies' (the mean over the rollout's entries of
	// ln(actions), 0 for agents the environment bound to one action), the
	// entropy bonus is multiplied by 1.5, up to EntropyCoefMax; at or above
	// it, the raised bonus falls back by 1.5 towards the scheduled one
	// (entropy_coef, or its entropy_decay schedule), never below it. This is
	// the entropy-target idea of soft actor-critic's automatic temperature
	// (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and
	// Applications", section 5) applied as a one-sided multiplicative rule
	// like Config.TargetKL's. The raised bonus is checkpointed.
	EntropyTarget  float64 `toml:"entropy_target" range:"[0, 1)" doc:"entropy floor: after an update whose mean policy entropy is below entropy_target x the uniform policies' (mean over the rollout's (sample, agent) entries of ln(actions); agents the environment bound to one action count 0, as in the loss) the entropy bonus is multiplied by 1.5 (from at least 0.001, up to entropy_coef_max); at or above it the raised bonus falls back by 1.5, never below the scheduled entropy_coef; 0 = off"`
	EntropyCoefMax float64 `toml:"entropy_coef_max" range:"(0, inf)" doc:"entropy_target > 0: largest entropy bonus the floor may raise to (at least entropy_coef and entropy_final)"`
	HuberDelta     float64 `toml:"huber_delta" range:"(0, inf)" doc:"Huber delta of the clipped value loss"`

	// Rollouts.
	Envs  int `toml:"num_envs" unit:"environments" range:"[1, 4096]" doc:"environment copies stepped in parallel per rollout"`
	Steps int `toml:"rollout_steps" unit:"steps per environment" range:"[1, 100000]" doc:"steps per environment copy per iteration (batch = num_envs x rollout_steps)"`
	// Workers is the number of goroutines stepping the copies, acting on
	// them (rollouts and evaluations in blocks of rows, the influence
	// probes one actor each) and running the fused kernels of the update
	// (attention.Binder.Workers; 0 = GOMAXPROCS); results do not depend on
	// it. Runs set it from algorithm.threads.
	Workers int `toml:"-"`

	// Iterations is the planned training length; it places the post_stable
	// freeze (PostRatio*Iterations). 0 disables the freeze. Runs set it from
	// their budget.
	Iterations int `toml:"-"`
}

// DefaultConfig returns the reference settings: the predator-prey values of
// spec section 4 with clip 0.2 (the reference's general setting; it uses
// 0.05 on predator-prey, which configs/predprey_*.toml set).
func DefaultConfig() Config {
	return Config{
		Graph: comm.Learned, Sparsity: 0.4, Tau: 1, Warmup: 10, PostRatio: 0.5,
		GateTau: 1, GateHidden: 32, GateBias: 2, GateEstimator: "score",
		Embed: 64, Heads: 1, Blocks: 1,
		LR: 5e-4, LRMin: 1e-6, LRMax: 1e-2, AlphaLR: 1e-4, AlphaEvery: 5, AlphaSource: "gradient", InfluenceEvery: 5, AlphaValueCoef: 1, AdamEps: 1e-5, MaxGradNorm: 10, Epochs: 10, Minibatches: 1,
		Clip: 0.2, Gamma: 0.99, Lambda: 0.95, ValueCoef: 1, EntropyCoef: 0.01, EntropyCoefMax: 1, HuberDelta: 10,
		Envs: 20, Steps: 200,
	}
}

// Validate reports every field out of its range (the ranges of the struct
// tags) and the cross-field rules, each error naming the field's key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want))
	}
	fin := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	pos := func(key string, x float64) { // (0, inf)
		if !(x > 0) || !fin(x) {
			bad(key, x, "must be > 0")
		}
	}
	nonneg := func(key string, x float64) { // [0, inf)
		if !(x >= 0) || !fin(x) {
			bad(key, x, "must be >= 0")
		}
	}
	in := func(key string, x, lo, hi float64, loOpen, hiOpen bool, want string) {
		if math.IsNaN(x) || x < lo || x > hi || (loOpen && x == lo) || (hiOpen && x == hi) {
			bad(key, x, want)
		}
	}
	irange := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(key, v, fmt.Sprintf("must be in [%d, %d]", lo, hi))
		}
	}
	if _, err := comm.ParseVariant(string(c.Graph)); err != nil {
		errs = append(errs, fmt.Errorf("graph = %q: %w", c.Graph, err))
	}
	if c.Graph == comm.File && c.Adjacency == nil && c.GraphFile == "" {
		errs = append(errs, errors.New(`graph_file = "": required when graph = file`))
	}
	in("sparsity", c.Sparsity, 0, 1, true, false, "must be in (0, 1]")
	irange("senders", c.Senders, 0, 4096)
	pos("tau", c.Tau)
	if c.Warmup < 0 {
		bad("warmup", c.Warmup, "must be >= 0")
	}
	in("post_ratio", c.PostRatio, 0, 1, false, false, "must be in [0, 1]")
	pos("gate_tau", c.GateTau)
	nonneg("gate_cost", c.GateLambda)
	irange("gate_hidden", c.GateHidden, 1, 4096)
	in("gate_bias", c.GateBias, -20, 20, false, false, "must be in [-20, 20]")
	if c.GateEstimator != "straight_through" && c.GateEstimator != "score" {
		bad("gate_estimator", fmt.Sprintf("%q", c.GateEstimator), `must be "straight_through" or "score"`)
	}
	nonneg("gate_entropy", c.GateEntropy)
	irange("embed_dim", c.Embed, 1, 4096)
	irange("heads", c.Heads, 1, 64)
	if c.Heads >= 1 && c.Embed%c.Heads != 0 {
		bad("heads", c.Heads, fmt.Sprintf("must divide embed_dim %d", c.Embed))
	}
	irange("blocks", c.Blocks, 1, 64)
	in("lr", c.LR, 0, 1, true, false, "must be in (0, 1]")
	nonneg("target_kl", c.TargetKL)
	in("lr_min", c.LRMin, 0, 1, true, false, "must be in (0, 1]")
	in("lr_max", c.LRMax, 0, 1, true, false, "must be in (0, 1]")
	if c.TargetKL > 0 && c.LRMin > c.LR {
		bad("lr_min", c.LRMin, fmt.Sprintf("must be <= lr (%g) when target_kl > 0", c.LR))
	}
	if c.TargetKL > 0 && c.LRMax < c.LR {
		bad("lr_max", c.LRMax, fmt.Sprintf("must be >= lr (%g) when target_kl > 0", c.LR))
	}
	in("alpha_lr", c.AlphaLR, 0, 1, true, false, "must be in (0, 1]")
	irange("alpha_every", c.AlphaEvery, 0, 1000)
	nonneg("alpha_value_coef", c.AlphaValueCoef)
	if c.AlphaSource != "gradient" && c.AlphaSource != "influence" && c.AlphaSource != "payoff" {
		bad("alpha_source", fmt.Sprintf("%q", c.AlphaSource), `must be "gradient", "influence" or "payoff"`)
	}
	irange("influence_every", c.InfluenceEvery, 1, 1000)
	if c.AlphaSource == "influence" || c.AlphaSource == "payoff" {
		src := fmt.Sprintf("%q", c.AlphaSource)
		if c.Graph != comm.Learned {
			bad("alpha_source", src, fmt.Sprintf("needs graph = %q (got %q)", comm.Learned, c.Graph))
		} else if c.Warmup <= c.AlphaStart {
			bad("alpha_source", src, fmt.Sprintf("measures during the warm-up from alpha_start: needs warmup (%d) > alpha_start (%d)", c.Warmup, c.AlphaStart))
		}
	}
	if c.AlphaStart < 0 {
		bad("alpha_start", c.AlphaStart, "must be >= 0")
	}
	in("adam_eps", c.AdamEps, 0, 1, true, true, "must be in (0, 1)")
	nonneg("max_grad_norm", c.MaxGradNorm)
	irange("epochs", c.Epochs, 1, 1000)
	irange("minibatches", c.Minibatches, 1, 1024)
	in("clip", c.Clip, 0, 1, true, true, "must be in (0, 1)")
	in("gamma", c.Gamma, 0, 1, true, false, "must be in (0, 1]")
	in("gae_lambda", c.Lambda, 0, 1, false, false, "must be in [0, 1]")
	pos("value_coef", c.ValueCoef)
	nonneg("entropy_coef", c.EntropyCoef)
	nonneg("entropy_final", c.EntropyFinal)
	in("entropy_target", c.EntropyTarget, 0, 1, false, true, "must be in [0, 1)")
	pos("entropy_coef_max", c.EntropyCoefMax)
	if c.EntropyTarget > 0 && c.EntropyCoefMax < max(c.EntropyCoef, c.EntropyFinal) {
		bad("entropy_coef_max", c.EntropyCoefMax, fmt.Sprintf("must be >= entropy_coef and entropy_final (%g) when entropy_target > 0", max(c.EntropyCoef, c.EntropyFinal)))
	}
	if c.GateStart < 0 {
		bad("gate_start", c.GateStart, "must be >= 0")
	}
	if c.EntropyDecay < 0 {
		bad("entropy_decay", c.EntropyDecay, "must be >= 0")
	}
	pos("huber_delta", c.HuberDelta)
	irange("num_envs", c.Envs, 1, 4096)
	irange("rollout_steps", c.Steps, 1, 100000)
	if c.Envs >= 1 && c.Steps >= 1 && c.Minibatches > c.Envs*c.Steps {
		bad("minibatches", c.Minibatches, fmt.Sprintf("exceeds the batch of num_envs x rollout_steps = %d samples", c.Envs*c.Steps))
	}
	if c.Workers < 0 {
		bad("workers", c.Workers, "must be >= 0 (0 = GOMAXPROCS)")
	}
	if c.Iterations < 0 {
		bad("iterations", c.Iterations, "must be >= 0")
	}
	return errors.Join(errs...)
}

// resolve validates c and reads the adjacency file of the file variant.
func (c Config) resolve() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("commformer: config: %w", err)
	}
	if c.Graph == comm.File && c.Adjacency == nil {
		adj, err := comm.ReadAdjacency(c.GraphFile)
		if err != nil {
			return c, fmt.Errorf("commformer: config graph_file: %w", err)
		}
		c.Adjacency = adj
	}
	return c, nil
}

// Label describes the configuration in report rows: "commformer <graph>",
// with the sparsity (or k, when senders sets it) for the learned and random
// graphs and "gate" when gating is on (e.g. "commformer learned S=0.4 gate",
// "commformer learned k=2").
func (c Config) Label() string {
	s := "commformer " + string(c.Graph)
	if c.Graph == comm.Learned || c.Graph == comm.Random {
		if c.Senders > 0 {
			s += fmt.Sprintf(" k=%d", c.Senders)
		} else {
			s += fmt.Sprintf(" S=%g", c.Sparsity)
		}
	}
	if c.Gate {
		s += " gate"
	}
	return s
}
