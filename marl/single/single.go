package single

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl/blackbox"
)

// Kinds of this package.
const (
	KindPPO = "ppo_single"
	KindSAC = "sac"
)

// kinds lists the kinds New accepts.
func kinds() []string { return []string{KindPPO, KindSAC} }

// PPOConfig configures single-agent PPO.
type PPOConfig struct {
	LR      float64 `toml:"lr" range:"(0, 1]" doc:"Adam learning rate of the policy logits and the value baseline"`
	Epochs  int     `toml:"epochs" unit:"passes" range:"[1, 100]" doc:"PPO epochs over each batch"`
	Clip    float64 `toml:"clip" range:"(0, 1)" doc:"PPO clipping range epsilon of the probability ratio"`
	Entropy float64 `toml:"entropy" range:"[0, inf)" doc:"entropy bonus coefficient (summed over the knob heads)"`
}

// SACConfig configures discrete soft actor-critic.
type SACConfig struct {
	LR        float64 `toml:"lr" range:"(0, 1]" doc:"Adam learning rate of the policy, the two critics and the temperature"`
	Updates   int     `toml:"updates" unit:"gradient steps per iteration" range:"[1, 1000]" doc:"gradient steps of critics, policy and temperature after each batch"`
	Minibatch int     `toml:"minibatch" unit:"designs" range:"[1, 100000]" doc:"designs drawn from the replay (every evaluated design) per critic step"`
	// TargetEntropy is the target of the policy's entropy as a fraction of
	// its maximum (the sum over knobs of log(values)); Christodoulou uses
	// 0.98, which in the one-step bandit form keeps the policy almost
	// uniform (a random search): the default is 0.5.
	TargetEntropy float64 `toml:"target_entropy" unit:"fraction of the maximum entropy" range:"[0, 1]" doc:"target entropy of the policy as a fraction of the maximum (the paper's 0.98 keeps the one-step policy near uniform)"`
	InitAlpha     float64 `toml:"init_alpha" range:"(0, inf)" doc:"initial temperature alpha"`
}

// PPOOptions are the options of ppo_single: the search settings shared by
// every design-space method (batch = designs per iteration) and PPO's own.
type PPOOptions struct {
	blackbox.Config
	PPOConfig
}

// SACOptions are the options of sac.
type SACOptions struct {
	blackbox.Config
	SACConfig
}

// DefaultPPO returns the defaults of ppo_single: batches of 32 designs,
// Adam 0.05, 4 epochs, clip 0.2, entropy 0.01.
func DefaultPPO() PPOOptions {
	return PPOOptions{blackbox.DefaultConfig(), PPOConfig{LR: 0.05, Epochs: 4, Clip: 0.2, Entropy: 0.01}}
}

// DefaultSAC returns the defaults of sac: batches of 32 designs, Adam
// 0.05, 8 updates of minibatch 64, target entropy 0.5, alpha 0.2.
func DefaultSAC() SACOptions {
	return SACOptions{blackbox.DefaultConfig(), SACConfig{LR: 0.05, Updates: 8, Minibatch: 64, TargetEntropy: 0.5, InitAlpha: 0.2}}
}

// Validate checks the options, each error starting with its key.
func (o PPOOptions) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if err := o.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	c := o.PPOConfig
	if !(c.LR > 0 && c.LR <= 1) {
		bad("lr", c.LR, "must be in (0, 1]")
	}
	if c.Epochs < 1 || c.Epochs > 100 {
		bad("epochs", c.Epochs, "must be in [1, 100]")
	}
	if !(c.Clip > 0 && c.Clip < 1) {
		bad("clip", c.Clip, "must be in (0, 1)")
	}
	if !(c.Entropy >= 0) || math.IsInf(c.Entropy, 0) {
		bad("entropy", c.Entropy, "must be >= 0")
	}
	return errors.Join(errs...)
}

// Validate checks the options, each error starting with its key.
func (o SACOptions) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if err := o.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	c := o.SACConfig
	if !(c.LR > 0 && c.LR <= 1) {
		bad("lr", c.LR, "must be in (0, 1]")
	}
	if c.Updates < 1 || c.Updates > 1000 {
		bad("updates", c.Updates, "must be in [1, 1000]")
	}
	if c.Minibatch < 1 || c.Minibatch > 100000 {
		bad("minibatch", c.Minibatch, "must be in [1, 100000]")
	}
	if !(c.TargetEntropy >= 0 && c.TargetEntropy <= 1) {
		bad("target_entropy", c.TargetEntropy, "must be in [0, 1]")
	}
	if !(c.InitAlpha > 0) || math.IsInf(c.InitAlpha, 0) {
		bad("init_alpha", c.InitAlpha, "must be > 0")
	}
	return errors.Join(errs...)
}

// NewPPO builds single-agent PPO over ds maximising obj's reward (see
// blackbox.NewMethod for the budget, cache and checkpoint).
func NewPPO(ds envs.DesignSpace, obj *envs.Objective, o PPOOptions, seed uint64) (*blackbox.Search, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%s: config: %w", KindPPO, err)
	}
	return blackbox.NewMethod(KindPPO, ds, obj, o.Config, seed, func(stream func(string) *rand.Rand) (blackbox.Method, error) {
		return newPPO(sizesOf(ds), o.PPOConfig, stream("ppo-sample")), nil
	})
}

// NewSAC builds discrete SAC over ds maximising obj's reward.
func NewSAC(ds envs.DesignSpace, obj *envs.Objective, o SACOptions, seed uint64) (*blackbox.Search, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%s: config: %w", KindSAC, err)
	}
	return blackbox.NewMethod(KindSAC, ds, obj, o.Config, seed, func(stream func(string) *rand.Rand) (blackbox.Method, error) {
		return newSAC(sizesOf(ds), o.SACConfig, stream("sac-sample"), stream("sac-replay")), nil
	})
}

func sizesOf(ds envs.DesignSpace) []int {
	var out []int
	for _, k := range ds.Knobs() {
		out = append(out, len(k.Values))
	}
	return out
}

// heads is a factorised categorical policy: one softmax head per knob.
type heads [][]float64

func newHeads(sizes []int) heads {
	h := make(heads, len(sizes))
	for k, n := range sizes {
		h[k] = make([]float64, n)
	}
	return h
}

// probs writes head k's probabilities into p and returns their log.
func softmax(logits, p, logp []float64) {
	m := math.Inf(-1)
	for _, x := range logits {
		m = max(m, x)
	}
	s := 0.0
	for v, x := range logits {
		p[v] = math.Exp(x - m)
		s += p[v]
	}
	ls := math.Log(s)
	for v, x := range logits {
		p[v] /= s
		logp[v] = x - m - ls
	}
}

// sample draws one design from the policy.
func (h heads) sample(r *rand.Rand, cfg []int) {
	for k, logits := range h {
		p := make([]float64, len(logits))
		lp := make([]float64, len(logits))
		softmax(logits, p, lp)
		u := r.Float64()
		v := 0
		for v < len(p)-1 && u >= p[v] {
			u -= p[v]
			v++
		}
		cfg[k] = v
	}
}

// adam is Adam (Kingma and Ba, 2015) over a list of parameter slices.
type adam struct {
	LR   float64
	Step int
	M, V [][]float64
}

func newAdam(lr float64, params [][]float64) *adam {
	a := &adam{LR: lr}
	for _, p := range params {
		a.M = append(a.M, make([]float64, len(p)))
		a.V = append(a.V, make([]float64, len(p)))
	}
	return a
}

// step descends along grads (same shapes as params).
func (a *adam) step(params, grads [][]float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.Step++
	c1 := 1 - math.Pow(b1, float64(a.Step))
	c2 := 1 - math.Pow(b2, float64(a.Step))
	for i, p := range params {
		for j := range p {
			g := grads[i][j]
			a.M[i][j] = b1*a.M[i][j] + (1-b1)*g
			a.V[i][j] = b2*a.V[i][j] + (1-b2)*g*g
			p[j] -= a.LR * (a.M[i][j] / c1) / (math.Sqrt(a.V[i][j]/c2) + eps)
		}
	}
}

// finiteRewards replaces -Inf rewards (failed values) by the smallest
// finite reward of the list (or 0) and reports which entries are usable
// (not NaN: dropped by the budget).
func finiteRewards(rw []float64) ([]float64, []bool) {
	lo := math.Inf(1)
	for _, r := range rw {
		if !math.IsNaN(r) && !math.IsInf(r, 0) {
			lo = min(lo, r)
		}
	}
	if math.IsInf(lo, 1) {
		lo = 0
	}
	out := make([]float64, len(rw))
	ok := make([]bool, len(rw))
	for i, r := range rw {
		switch {
		case math.IsNaN(r):
		case math.IsInf(r, 0):
			out[i], ok[i] = lo, true
		default:
			out[i], ok[i] = r, true
		}
	}
	return out, ok
}
