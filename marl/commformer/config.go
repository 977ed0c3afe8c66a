package commformer

import (
	"fmt"
	"math"

	"github.com/commgraph/commgraph/comm"
)

// Config holds every knob of the CommFormer learner (spec sections 1-4). The
// zero value of a field means "use the default" where noted; use
// DefaultConfig for a complete starting point.
type Config struct {
	// Model (spec section 1).
	Embed  int // embedding width d (64)
	Heads  int // attention heads (1)
	Blocks int // encoder and decoder blocks (1)

	// Communication graph (spec section 1).
	Graph      comm.Variant // learned (default), full, none, random, file
	Sparsity   float64      // S: each row keeps k = max(floor(N*S), 1) senders (0.4)
	Tau        float64      // Gumbel-softmax temperature (1)
	Warmup     int          // iterations of dense alpha-weighted warm-up (10); -1 = none
	PostStable bool         // freeze the graph after PostRatio of Iterations
	PostRatio  float64      // fraction of training after which the graph freezes (0.5)
	// Adjacency is the file variant's matrix (rows = receivers).
	Adjacency [][]float64

	// Bi-level optimisation (spec section 2).
	AlphaLR    float64 // Adam learning rate of alpha (1e-4)
	AlphaEvery int     // every AlphaEvery-th epoch is an alpha step (5); 0 = default, -1 = never

	// Temporal gate (spec section 3).
	Gate       bool    // gating on/off (off)
	GateTau    float64 // binary-concrete temperature tau_g (1)
	GateLambda float64 // communication cost lambda_g * mean(g) (0)
	GateHidden int     // hidden width of the gate MLP (32)
	GateBias   float64 // initial gate-logit bias (2: receive ~88% at the start)

	// PPO (spec section 4).
	LR          float64 // model Adam learning rate (5e-4)
	AdamEps     float64 // Adam epsilon of both optimisers (1e-5)
	MaxGradNorm float64 // global gradient-norm clip of the model (10); -1 = off
	Clip        float64 // policy ratio and value clip (0.2; the reference uses 0.05 on predator-prey)
	ValueCoef   float64 // value-loss weight (1)
	EntropyCoef float64 // entropy weight (0.01); -1 = 0
	HuberDelta  float64 // Huber threshold of the value loss (10)
	Gamma       float64 // discount (0.99)
	Lambda      float64 // GAE lambda (0.95)
	Epochs      int     // PPO epochs per iteration (10)
	Minibatches int     // minibatches per epoch (1 = full batch)

	// Rollouts.
	Envs    int // parallel environment copies (20)
	Steps   int // steps per copy per iteration (200)
	Workers int // goroutines stepping the copies (0 = GOMAXPROCS)

	// Iterations is the planned training length; it places the post_stable
	// freeze (PostRatio*Iterations). 0 disables the freeze.
	Iterations int
}

// DefaultConfig returns the reference settings (the predator-prey values of
// spec section 4, with clip 0.2).
func DefaultConfig() Config {
	return Config{
		Embed: 64, Heads: 1, Blocks: 1,
		Graph: comm.Learned, Sparsity: 0.4, Tau: 1, Warmup: 10, PostRatio: 0.5,
		AlphaLR: 1e-4, AlphaEvery: 5,
		GateTau: 1, GateHidden: 32, GateBias: 2,
		LR: 5e-4, AdamEps: 1e-5, MaxGradNorm: 10, Clip: 0.2, ValueCoef: 1, EntropyCoef: 0.01,
		HuberDelta: 10, Gamma: 0.99, Lambda: 0.95, Epochs: 10, Minibatches: 1,
		Envs: 20, Steps: 200,
	}
}

// withDefaults fills zero fields from DefaultConfig and validates.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	setI(&c.Embed, d.Embed)
	setI(&c.Heads, d.Heads)
	setI(&c.Blocks, d.Blocks)
	if c.Graph == "" {
		c.Graph = d.Graph
	}
	setF(&c.Sparsity, d.Sparsity)
	setF(&c.Tau, d.Tau)
	setI(&c.Warmup, d.Warmup)
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	setF(&c.PostRatio, d.PostRatio)
	setF(&c.AlphaLR, d.AlphaLR)
	setI(&c.AlphaEvery, d.AlphaEvery)
	setF(&c.GateTau, d.GateTau)
	setI(&c.GateHidden, d.GateHidden)
	setF(&c.GateBias, d.GateBias)
	setF(&c.LR, d.LR)
	setF(&c.AdamEps, d.AdamEps)
	setF(&c.MaxGradNorm, d.MaxGradNorm)
	setF(&c.Clip, d.Clip)
	setF(&c.ValueCoef, d.ValueCoef)
	setF(&c.EntropyCoef, d.EntropyCoef)
	if c.EntropyCoef < 0 {
		c.EntropyCoef = 0
	}
	setF(&c.HuberDelta, d.HuberDelta)
	setF(&c.Gamma, d.Gamma)
	setF(&c.Lambda, d.Lambda)
	setI(&c.Epochs, d.Epochs)
	setI(&c.Minibatches, d.Minibatches)
	setI(&c.Envs, d.Envs)
	setI(&c.Steps, d.Steps)
	bad := func(key string, v any, want string) error {
		return fmt.Errorf("commformer: config %s = %v, %s", key, v, want)
	}
	fin := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case c.Embed < 1:
		return c, bad("embed", c.Embed, "must be >= 1")
	case c.Heads < 1 || c.Embed%c.Heads != 0:
		return c, bad("heads", c.Heads, fmt.Sprintf("must be >= 1 and divide embed %d", c.Embed))
	case c.Blocks < 1:
		return c, bad("blocks", c.Blocks, "must be >= 1")
	case !(c.Sparsity > 0 && c.Sparsity <= 1):
		return c, bad("sparsity", c.Sparsity, "must be in (0, 1]")
	case !(c.Tau > 0) || !fin(c.Tau):
		return c, bad("tau", c.Tau, "must be > 0")
	case c.PostRatio < 0 || c.PostRatio > 1:
		return c, bad("post_ratio", c.PostRatio, "must be in [0, 1]")
	case !(c.AlphaLR > 0) || !fin(c.AlphaLR):
		return c, bad("alpha_lr", c.AlphaLR, "must be > 0")
	case c.AlphaEvery < -1:
		return c, bad("alpha_every", c.AlphaEvery, "must be >= 1 or -1 (never)")
	case !(c.GateTau > 0) || !fin(c.GateTau):
		return c, bad("gate_tau", c.GateTau, "must be > 0")
	case c.GateLambda < 0 || !fin(c.GateLambda):
		return c, bad("gate_lambda", c.GateLambda, "must be >= 0")
	case c.GateHidden < 1:
		return c, bad("gate_hidden", c.GateHidden, "must be >= 1")
	case !(c.LR > 0) || !fin(c.LR):
		return c, bad("lr", c.LR, "must be > 0")
	case !(c.AdamEps > 0):
		return c, bad("adam_eps", c.AdamEps, "must be > 0")
	case !(c.Clip > 0) || c.Clip >= 1:
		return c, bad("clip", c.Clip, "must be in (0, 1)")
	case !(c.HuberDelta > 0):
		return c, bad("huber_delta", c.HuberDelta, "must be > 0")
	case !(c.Gamma > 0 && c.Gamma <= 1):
		return c, bad("gamma", c.Gamma, "must be in (0, 1]")
	case !(c.Lambda >= 0 && c.Lambda <= 1):
		return c, bad("lambda", c.Lambda, "must be in [0, 1]")
	case c.Epochs < 1:
		return c, bad("epochs", c.Epochs, "must be >= 1")
	case c.Minibatches < 1 || c.Minibatches > c.Envs*c.Steps:
		return c, bad("minibatches", c.Minibatches, fmt.Sprintf("must be in [1, envs*steps = %d]", c.Envs*c.Steps))
	case c.Envs < 1:
		return c, bad("envs", c.Envs, "must be >= 1")
	case c.Steps < 1:
		return c, bad("steps", c.Steps, "must be >= 1")
	case c.Iterations < 0:
		return c, bad("iterations", c.Iterations, "must be >= 0")
	}
	if _, err := comm.ParseVariant(string(c.Graph)); err != nil {
		return c, fmt.Errorf("commformer: config graph: %w", err)
	}
	return c, nil
}
