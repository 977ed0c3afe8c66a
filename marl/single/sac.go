package single

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/marl/blackbox"
	"github.com/commgraph/commgraph/marl/contract"
)

// sac is discrete soft actor-critic (Christodoulou 2019) in the one-step
// bandit form, with a factorised action (one value per knob):
//
//   - two critics, each Q_j(a) = c_j + sum_k q_jk(a_k), regress the reward
//     of designs drawn from the replay (every design evaluated so far; the
//     episode ends after one step, so the target is the reward itself, no
//     bootstrap and no target network); each critic draws its own
//     minibatch;
//   - the policy, one softmax head per knob, minimises the exact
//     expectation over each head's actions (the discrete-action form of
//     the paper) of alpha log pi_k(a) - min_j q_jk(a), the twin minimum
//     taken per head;
//   - the temperature alpha follows the gradient of alpha (H - Hbar),
//     where H is the policy's entropy (the sum over heads) and Hbar the
//     target: TargetEntropy times the maximum, sum_k log(values_k)
//     (Christodoulou: 0.98 of the maximum).
type sac struct {
	c      SACConfig
	st     sacState
	sample *rand.Rand
	replay *rand.Rand
	maxH   float64
}

// sacState is everything sac saves.
type sacState struct {
	Logits [][]float64
	Q      [2][][]float64 // per critic: one slice per knob, then the bias (one entry)
	QInit  bool           // biases set from the first batch's mean reward
	LogA   []float64      // log alpha (one entry)
	PiOpt  *adam
	QOpt   [2]*adam
	AOpt   *adam
	// Of the last update (metrics).
	Entropy, CriticLoss float64
}

func newSAC(sizes []int, c SACConfig, sample, replay *rand.Rand) *sac {
	s := &sac{c: c, sample: sample, replay: replay}
	s.st.Logits = newHeads(sizes)
	for j := range 2 {
		s.st.Q[j] = append(newHeads(sizes), []float64{0})
		s.st.QOpt[j] = newAdam(c.LR, s.st.Q[j])
	}
	s.st.LogA = []float64{math.Log(c.InitAlpha)}
	s.st.PiOpt = newAdam(c.LR, s.st.Logits)
	s.st.AOpt = newAdam(c.LR, [][]float64{s.st.LogA})
	for _, n := range sizes {
		s.maxH += math.Log(float64(n))
	}
	return s
}

func (s *sac) Propose(v blackbox.View) [][]int {
	out := make([][]int, v.Batch())
	for i := range out {
		out[i] = make([]int, len(s.st.Logits))
		heads(s.st.Logits).sample(s.sample, out[i])
	}
	return out
}

func (s *sac) Observe(v blackbox.View, props [][]int, rewards []float64) {
	n := v.Evaluations()
	if n == 0 {
		return
	}
	K := len(s.st.Logits)
	if !s.st.QInit {
		rw, ok := finiteRewards(rewards)
		m, c := 0.0, 0.0
		for i := range rw {
			if ok[i] {
				m, c = m+rw[i], c+1
			}
		}
		if c > 0 {
			s.st.Q[0][K][0], s.st.Q[1][K][0], s.st.QInit = m/c, m/c, true
		}
	}
	grads := func(like [][]float64) [][]float64 {
		g := make([][]float64, len(like))
		for i, x := range like {
			g[i] = make([]float64, len(x))
		}
		return g
	}
	qg := [2][][]float64{grads(s.st.Q[0]), grads(s.st.Q[1])}
	pg := grads(s.st.Logits)
	ag := [][]float64{{0}}
	probs := make([][]float64, K)
	logp := make([][]float64, K)
	for k, l := range s.st.Logits {
		probs[k], logp[k] = make([]float64, len(l)), make([]float64, len(l))
	}
	for range s.c.Updates {
		// Critics: least squares on replayed rewards.
		loss := 0.0
		for j := range 2 {
			for _, g := range qg[j] {
				clear(g)
			}
			m := 0.0
			for range s.c.Minibatch {
				cfg, r := v.Record(s.replay.IntN(n))
				if math.IsInf(r, 0) || math.IsNaN(r) {
					continue
				}
				q := s.st.Q[j][K][0]
				for k := range K {
					q += s.st.Q[j][k][cfg[k]]
				}
				e := q - r
				loss += e * e
				m++
				qg[j][K][0] += 2 * e
				for k := range K {
					qg[j][k][cfg[k]] += 2 * e
				}
			}
			if m == 0 {
				continue
			}
			for _, g := range qg[j] {
				for i := range g {
					g[i] /= m
				}
			}
			s.st.QOpt[j].step(s.st.Q[j], qg[j])
			s.st.CriticLoss = loss / m / 2
		}
		// Policy: exact expectation per head.
		alpha := math.Exp(s.st.LogA[0])
		h := 0.0
		for k, l := range s.st.Logits {
			softmax(l, probs[k], logp[k])
			gbar := 0.0
			g := make([]float64, len(l))
			for u := range l {
				g[u] = alpha*logp[k][u] - min(s.st.Q[0][k][u], s.st.Q[1][k][u])
				gbar += probs[k][u] * g[u]
				h -= probs[k][u] * logp[k][u]
			}
			for u := range l {
				pg[k][u] = probs[k][u] * (g[u] - gbar)
			}
		}
		s.st.PiOpt.step(s.st.Logits, pg)
		// Temperature.
		ag[0][0] = alpha * (h - s.c.TargetEntropy*s.maxH)
		s.st.AOpt.step([][]float64{s.st.LogA}, ag)
		s.st.Entropy = h
	}
}

func (s *sac) Metrics(m contract.Metrics) {
	m["policy_entropy"] = s.st.Entropy
	m["alpha"] = math.Exp(s.st.LogA[0])
	m["critic_loss"] = s.st.CriticLoss
}

func (s *sac) State() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(&s.st)
	return b.Bytes(), err
}

func (s *sac) SetState(data []byte) error {
	var st sacState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return err
	}
	if err := sameShape("logits", st.Logits, s.st.Logits); err != nil {
		return err
	}
	for j := range 2 {
		if err := sameShape(fmt.Sprintf("critic %d", j), st.Q[j], s.st.Q[j]); err != nil {
			return err
		}
		if st.QOpt[j] == nil || len(st.QOpt[j].M) != len(s.st.Q[j]) {
			return errShape("sac critic optimiser")
		}
		st.QOpt[j].restoreZeros(st.Q[j])
	}
	if len(st.LogA) != 1 || st.PiOpt == nil || st.AOpt == nil || len(st.PiOpt.M) != len(st.Logits) || len(st.AOpt.M) != 1 {
		return errShape("sac state")
	}
	st.PiOpt.restoreZeros(st.Logits)
	st.AOpt.restoreZeros([][]float64{st.LogA})
	s.st = st
	return nil
}

// sameShape checks a loaded parameter list against the expected shapes.
func sameShape(name string, got, want [][]float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("checkpoint %s: %d slices, want %d", name, len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Errorf("checkpoint %s[%d]: %d values, want %d", name, i, len(got[i]), len(want[i]))
		}
	}
	return nil
}

func errShape(what string) error { return fmt.Errorf("checkpoint: malformed %s", what) }

// restoreZeros re-creates moment slices that gob dropped because they were
// empty (gob omits zero-length slices), so shapes match the parameters.
func (a *adam) restoreZeros(params [][]float64) {
	for i, p := range params {
		if i < len(a.M) && len(a.M[i]) != len(p) {
			a.M[i] = make([]float64, len(p))
		}
		if i < len(a.V) && len(a.V[i]) != len(p) {
			a.V[i] = make([]float64, len(p))
		}
	}
}
