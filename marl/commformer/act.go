package commformer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/comm"
)

// sampleGates reports whether acting samples the gates: a score-function
// gate while exploring (not greedy, with a random source).
func (m *model) sampleGates(greedy bool, rng *rand.Rand) bool {
	return !greedy && rng != nil && m.gate.Enabled() && m.gate.Config().Score
}

// act chooses actions for a batch of B samples with observations obs
// [B*N*O]: one encoder pass (values, gates), then N decoder passes that pick
// the agents in the decoding order order (a permutation of 0..N-1, shared by
// the samples), each conditioned on the choices of the earlier agents in
// its graph row (MAT-style autoregressive acting). forced ([B*N], -1 =
// free; nil = all free) binds agents to one action, taken with probability
// 1 (its distribution is a point mass). greedy takes the argmax (evaluation);
// otherwise actions are sampled from rng. It writes actions, their
// log-probabilities, the normalised values and the acting gates (all [B*N]);
// values, logp and gates may be nil.
func (m *model) act(a *actor, obs []float32, order, forced []int32, greedy bool, rng *rand.Rand, actions []int32, logp, values []float32, gates []float64) error {
	B, N, A := a.enc.B, m.N, m.A
	e, d := a.enc, a.dec
	normObs(a.norm, obs, m.O)
	put(e.obs, a.norm)
	sampleGates := m.sampleGates(greedy, rng)
	if sampleGates { // the same draws as the fast path (comm.Gate.SampleF32)
		e.gate.Resample(rng)
	}
	err := e.vm.RunAll()
	if sampleGates {
		e.gate.SetActing()
	}
	if err != nil {
		e.vm.Reset()
		return fmt.Errorf("commformer: acting encoder: %w", err)
	}
	var gateLP []float64 // log P(g | x) of the sampled gates
	if sampleGates && logp != nil {
		gv, lv := e.gate.Values(), e.gate.LogitValues()
		gateLP = make([]float64, len(gv))
		for r := range gv {
			gateLP[r] = comm.GateLogProb(lv[r], gv[r] == 1)
		}
	}
	if values != nil {
		get(values, e.values)
	}
	switch r := e.rep.Data().(type) {
	case []float32:
		copy(d.rep.Data().([]float32), r)
	case []float64:
		copy(d.rep.Data().([]float64), r)
	}
	if d.gate != nil || gates != nil {
		gv := e.gate.Values()
		if gates != nil {
			copy(gates, gv)
		}
		if d.gate != nil {
			a.gate = append(a.gate[:0], gv...)
			g32 := make([]float32, len(gv))
			for i, v := range gv {
				g32[i] = float32(v)
			}
			put(d.gate, g32)
		}
	}
	e.vm.Reset()

	tok := a.tok
	clear(tok) // undecided agents' tokens are never read (causal mask)
	d.rank.SetOrder(order, N)
	for _, i32 := range order {
		i := int(i32)
		put(d.tok, tok)
		if err := d.vm.RunAll(); err != nil {
			d.vm.Reset()
			return fmt.Errorf("commformer: acting decoder (agent %d): %w", i, err)
		}
		get(a.logp, d.logp)
		d.vm.Reset()
		cnt := m.counts[i]
		for s := 0; s < B; s++ {
			row := a.logp[(s*N+i)*A : (s*N+i)*A+A]
			if forced != nil && forced[s*N+i] >= 0 {
				pointMass(row, int(forced[s*N+i]))
			}
			copy(a.dist[(s*N+i)*A:(s*N+i)*A+A], row)
			var c int
			if forced != nil && forced[s*N+i] >= 0 {
				c = int(forced[s*N+i])
			} else if greedy {
				c = 0
				for j := 1; j < cnt; j++ {
					if row[j] > row[c] {
						c = j
					}
				}
			} else {
				u := rng.Float64()
				var tot float64
				for j := 0; j < cnt; j++ {
					tot += math.Exp(float64(row[j]))
				}
				u *= tot
				c = cnt - 1
				var cum float64
				for j := 0; j < cnt; j++ {
					cum += math.Exp(float64(row[j]))
					if u < cum {
						c = j
						break
					}
				}
			}
			actions[s*N+i] = int32(c)
			if logp != nil {
				logp[s*N+i] = row[c]
				if gateLP != nil {
					logp[s*N+i] += float32(gateLP[s*N+i])
				}
			}
			tok[(s*N+i)*(A+1)+1+c] = 1
		}
	}
	return nil
}

// pointMass turns the log-probability row into a point mass on action c
// (log-probability 0 there, maskNeg elsewhere): a forced action.
func pointMass(row []float32, c int) {
	for j := range row {
		row[j] = maskNeg
	}
	row[c] = 0
}
