package commformer

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/commgraph/commgraph/envs"
)

// Rollouts of the bi-level loop (split from trainer.go).

// forcedActions writes the forced actions of every copy of vec into dst
// ([K*N], -1 = free): envs.ActionForcer, or all free.
func forcedActions(vec *envs.Vec, dst []int32, n int) {
	var tmp [64]int
	buf := tmp[:0]
	if n > len(tmp) {
		buf = make([]int, n)
	}
	buf = buf[:n]
	for k := 0; k < vec.Len(); k++ {
		row := dst[k*n : (k+1)*n]
		f, ok := vec.Env(k).(envs.ActionForcer)
		if !ok {
			for i := range row {
				row[i] = -1
			}
			continue
		}
		f.ForcedActions(buf)
		for i, a := range buf {
			row[i] = int32(a)
		}
	}
}

// shuffleOrder writes a uniformly random permutation of 0..len(p)-1 into p
// (Fisher-Yates).
func shuffleOrder(p []int32, r *rand.Rand) {
	for i := range p {
		p[i] = int32(i)
	}
	r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
}

// rolloutStats summarises one rollout.
type rolloutStats struct {
	episodes       int
	retSum, lenSum float64
	gates          []float64 // acting gates of every agent-step
}

func (t *Trainer) rollout(ctx context.Context) (*rolloutStats, error) {
	E, T, N, O := t.cfg.Envs, t.cfg.Steps, t.m.N, t.m.O
	a, err := t.actor(E)
	if err != nil {
		return nil, err
	}
	a.setMode(t.actMode())
	vec := envs.NewVec(t.proto, E, envs.VecConfig{Seed: envs.DeriveSeed(t.seed, purposeEnv, uint64(t.iter)), Workers: t.cfg.Workers})
	defer vec.Close()
	vb := vec.NewBuffers()
	vec.Reset(vb)
	cr, ok := t.proto.(envs.CostlyReset)
	finalStep := ok && cr.CostlyReset()
	b := t.buf
	rs := &rolloutStats{}
	if t.m.gate.Enabled() {
		rs.gates = make([]float64, 0, T*E*N)
	}
	gates := make([]float64, E*N)
	boot := make([]float32, E*N)
	rng := t.rngs["act"]
	for s := 0; s < T; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := s * E * N
		copy(b.Obs[k*O:(k+E*N)*O], vb.Obs)
		normObs(t.normObs[k*O:(k+E*N)*O], vb.Obs, O)
		acts := b.Actions[k : k+E*N]
		order := t.orders[s*N : (s+1)*N]
		shuffleOrder(order, t.rngs["order"])
		forced := t.forced[k : k+E*N]
		forcedActions(vec, forced, N)
		if err := a.act(vb.Obs, order, forced, false, rng, acts, b.LogProbs[k:k+E*N], b.Values[k:k+E*N], gates); err != nil {
			return nil, fmt.Errorf("commformer: iteration %d step %d: %w", t.iter+1, s, err)
		}
		if rs.gates != nil {
			rs.gates = append(rs.gates, gates...)
		}
		if t.gates != nil {
			copy(t.gates[k:k+E*N], gates)
		}
		for j, v := range acts {
			vb.Actions[j] = int(v)
		}
		if s == T-1 && finalStep {
			vec.StepFinal(vb) // no episode started that this rollout would not run
		} else {
			vec.Step(vb)
		}
		copy(b.Rewards[k:k+E*N], vb.Rewards)
		anyTrunc := false
		for e := 0; e < E; e++ {
			r := vb.Results[e]
			b.Terminated[s*E+e] = r.Terminated
			b.Truncated[s*E+e] = r.Truncated && !r.Terminated
			anyTrunc = anyTrunc || b.Truncated[s*E+e]
			if r.Done() {
				st, _ := vec.LastEpisode(e)
				rs.episodes++
				rs.retSum += st.Return
				rs.lenSum += float64(st.Length)
			}
		}
		if anyTrunc {
			if err := a.values(vb.TerminalObs, boot); err != nil {
				return nil, err
			}
			copy(b.BootValues[k:k+E*N], boot)
		}
	}
	if err := a.values(vb.Obs, b.LastValues); err != nil {
		return nil, err
	}
	return rs, nil
}
