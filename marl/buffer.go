package marl

import (
	"fmt"
	"math"
)

// Buffer holds one on-policy rollout of a vectorised multi-agent environment:
// Steps x Envs x Agents entries, stored flat in [step][env][agent] order
// (observations additionally padded to ObsDim and laid out per agent).
//
// Values, BootValues and LastValues are the model's normalised value
// predictions (the critic learns normalised targets, as in MAPPO); GAE
// de-normalises them through a ValueNorm.
type Buffer struct {
	Envs, Steps, Agents int
	ObsDim              int // padded observation length (the largest agent's)
	MaxActions          int // padded action count (the largest agent's)

	Obs      []float32 // [T][E][N][ObsDim], zero padded
	Actions  []int32   // [T][E][N]
	LogProbs []float32 // [T][E][N] log-probability of the taken action under the acting policy
	Values   []float32 // [T][E][N] normalised value prediction at the observation
	Rewards  []float32 // [T][E][N]

	Terminated []bool // [T][E] the step ended the episode on the environment's own terms
	Truncated  []bool // [T][E] the step hit the episode cap (bootstrap)
	// BootValues [T][E][N]: normalised value of the terminal observation of a
	// truncated step (read only where Truncated is set).
	BootValues []float32
	// LastValues [E][N]: normalised value of the observation that follows the
	// final step (the rollout's own cut is a truncation too).
	LastValues []float32

	// ActionCounts[i] is agent i's number of available actions; actions
	// >= ActionCounts[i] are masked (heterogeneous action counts).
	ActionCounts []int

	Advantages []float32 // [T][E][N], filled by ComputeGAE
	Returns    []float32 // [T][E][N] de-normalised GAE returns, filled by ComputeGAE
}

// NewBuffer allocates a buffer for envs x steps x agents with the given
// per-agent action counts and padded observation length.
func NewBuffer(envs, steps, obsDim int, actionCounts []int) (*Buffer, error) {
	n := len(actionCounts)
	if envs <= 0 || steps <= 0 || n == 0 || obsDim <= 0 {
		return nil, fmt.Errorf("marl: buffer needs positive envs, steps, agents and obs size (got %d, %d, %d, %d)", envs, steps, n, obsDim)
	}
	maxA := 0
	for i, a := range actionCounts {
		if a <= 0 {
			return nil, fmt.Errorf("marl: agent %d has %d actions", i, a)
		}
		maxA = max(maxA, a)
	}
	m := steps * envs * n
	return &Buffer{
		Envs: envs, Steps: steps, Agents: n, ObsDim: obsDim, MaxActions: maxA,
		Obs:          make([]float32, m*obsDim),
		Actions:      make([]int32, m),
		LogProbs:     make([]float32, m),
		Values:       make([]float32, m),
		Rewards:      make([]float32, m),
		Terminated:   make([]bool, steps*envs),
		Truncated:    make([]bool, steps*envs),
		BootValues:   make([]float32, m),
		LastValues:   make([]float32, envs*n),
		ActionCounts: append([]int(nil), actionCounts...),
		Advantages:   make([]float32, m),
		Returns:      make([]float32, m),
	}, nil
}

// Len returns the number of (step, env) samples; each sample has Agents entries.
func (b *Buffer) Len() int { return b.Steps * b.Envs }

// Index returns the flat [step][env][agent] index.
func (b *Buffer) Index(t, e, i int) int { return (t*b.Envs+e)*b.Agents + i }

// ObsAt returns the padded observation slot of (t, e, i).
func (b *Buffer) ObsAt(t, e, i int) []float32 {
	k := b.Index(t, e, i) * b.ObsDim
	return b.Obs[k : k+b.ObsDim]
}

// ActionMask writes the additive logit mask of the padded action layout into
// out ([Agents][MaxActions]): 0 for available actions, neg for the others.
func (b *Buffer) ActionMask(neg float32, out []float32) {
	for i, c := range b.ActionCounts {
		for a := 0; a < b.MaxActions; a++ {
			v := float32(0)
			if a >= c {
				v = neg
			}
			out[i*b.MaxActions+a] = v
		}
	}
}

// ComputeGAE fills Advantages and Returns with generalised advantage
// estimation (Schulman et al. 2016, "High-Dimensional Continuous Control Using
// Generalized Advantage Estimation") on de-normalised values:
//
//	delta_t = r_t + gamma * V(s_{t+1}) * (1 - term_t) - V(s_t)
//	A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
//
// where V(s_{t+1}) is the terminal observation's value on a truncated step
// (truncation bootstraps, termination does not), and LastValues after the
// final step. Returns = A + V(s_t). denorm maps a normalised prediction to
// return units (the identity without value normalisation).
func (b *Buffer) ComputeGAE(gamma, lambda float64, denorm func(float64) float64) {
	if denorm == nil {
		denorm = func(x float64) float64 { return x }
	}
	E, N := b.Envs, b.Agents
	for e := 0; e < E; e++ {
		for i := 0; i < N; i++ {
			var gae float64
			next := denorm(float64(b.LastValues[e*N+i]))
			for t := b.Steps - 1; t >= 0; t-- {
				k := b.Index(t, e, i)
				v := denorm(float64(b.Values[k]))
				term, trunc := b.Terminated[t*E+e], b.Truncated[t*E+e]
				var delta float64
				switch {
				case term:
					delta = float64(b.Rewards[k]) - v
					gae = delta
				case trunc:
					delta = float64(b.Rewards[k]) + gamma*denorm(float64(b.BootValues[k])) - v
					gae = delta
				default:
					delta = float64(b.Rewards[k]) + gamma*next - v
					gae = delta + gamma*lambda*gae
				}
				b.Advantages[k] = float32(gae)
				b.Returns[k] = float32(gae + v)
				next = v
			}
		}
	}
}

// NormalizeAdvantages returns (a - mean) / (std + 1e-5) over all entries,
// written into out (which may alias a). Statistics accumulate in float64.
func NormalizeAdvantages(a, out []float32) {
	if len(a) == 0 {
		return
	}
	var s float64
	for _, x := range a {
		s += float64(x)
	}
	mean := s / float64(len(a))
	var ss float64
	for _, x := range a {
		d := float64(x) - mean
		ss += d * d
	}
	std := math.Sqrt(ss / float64(len(a)))
	for i, x := range a {
		out[i] = float32((float64(x) - mean) / (std + 1e-5))
	}
}
