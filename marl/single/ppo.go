package single

import (
	"bytes"
	"encoding/gob"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/marl/blackbox"
	"github.com/commgraph/commgraph/marl/contract"
)

// ppo is single-agent PPO (Schulman et al. 2017) in the one-step bandit
// form: the policy is one softmax head per knob (logits are the
// parameters, see the package documentation); the value of the constant
// observation is a scalar baseline B learned by least squares. After each
// batch, advantages A = r - B are normalised over the batch, and Epochs
// full-batch Adam steps descend
//
//	-mean_i min(rho_i A_i, clip(rho_i, 1-eps, 1+eps) A_i) - Entropy * sum_k H_k
//
// where rho_i is the probability ratio of design i under the current and
// the sampling policy (the product over the knob heads).
type ppo struct {
	c      PPOConfig
	st     ppoState
	sample *rand.Rand
}

// ppoState is everything ppo saves.
type ppoState struct {
	Logits         [][]float64
	B              []float64 // the value baseline (one entry)
	BInit          bool      // B was set from the first batch's mean reward
	Opt            *adam     // over Logits, then B
	Entropy, Clip  float64   // of the last update (metrics)
	KL, ValueError float64
}

func newPPO(sizes []int, c PPOConfig, sample *rand.Rand) *ppo {
	p := &ppo{c: c, sample: sample}
	p.st.Logits = newHeads(sizes)
	p.st.B = []float64{0}
	p.st.Opt = newAdam(c.LR, p.params())
	return p
}

func (p *ppo) params() [][]float64 { return append(append([][]float64{}, p.st.Logits...), p.st.B) }

func (p *ppo) Propose(v blackbox.View) [][]int {
	out := make([][]int, v.Batch())
	for i := range out {
		out[i] = make([]int, len(p.st.Logits))
		heads(p.st.Logits).sample(p.sample, out[i])
	}
	return out
}

// logProb returns log pi(cfg) under the current logits.
func (p *ppo) logProb(cfg []int, probs, logp [][]float64) float64 {
	s := 0.0
	for k := range p.st.Logits {
		s += logp[k][cfg[k]]
	}
	return s
}

// dist computes every head's probabilities and log-probabilities.
func (p *ppo) dist() (probs, logp [][]float64) {
	for _, l := range p.st.Logits {
		pr, lp := make([]float64, len(l)), make([]float64, len(l))
		softmax(l, pr, lp)
		probs, logp = append(probs, pr), append(logp, lp)
	}
	return probs, logp
}

func (p *ppo) Observe(v blackbox.View, props [][]int, rewards []float64) {
	rw, ok := finiteRewards(rewards)
	var acts [][]int
	var r []float64
	for i := range props {
		if ok[i] {
			acts, r = append(acts, props[i]), append(r, rw[i])
		}
	}
	n := float64(len(r))
	if n == 0 {
		return
	}
	mean := 0.0
	for _, x := range r {
		mean += x / n
	}
	if !p.st.BInit {
		p.st.B[0], p.st.BInit = mean, true
	}
	// Advantages, normalised over the batch.
	adv := make([]float64, len(r))
	am, as := 0.0, 0.0
	for i, x := range r {
		adv[i] = x - p.st.B[0]
		am += adv[i] / n
	}
	for _, a := range adv {
		as += (a - am) * (a - am) / n
	}
	sd := math.Sqrt(as)
	for i := range adv {
		if sd > 1e-12 {
			adv[i] = (adv[i] - am) / sd
		} else {
			adv[i] = 0
		}
	}
	probs, logp := p.dist()
	old := make([]float64, len(acts))
	for i, a := range acts {
		old[i] = p.logProb(a, probs, logp)
	}
	grads := make([][]float64, len(p.st.Logits)+1)
	for k, l := range p.st.Logits {
		grads[k] = make([]float64, len(l))
	}
	grads[len(p.st.Logits)] = make([]float64, 1)
	eps := p.c.Clip
	var clipped, kl float64
	for range p.c.Epochs {
		for _, g := range grads {
			clear(g)
		}
		probs, logp = p.dist()
		clipped, kl = 0, 0
		for i, a := range acts {
			lp := p.logProb(a, probs, logp)
			rho := math.Exp(lp - old[i])
			kl += (old[i] - lp) / n
			A := adv[i]
			if (A > 0 && rho > 1+eps) || (A < 0 && rho < 1-eps) {
				clipped++
				continue // the clipped term is constant: no gradient
			}
			w := -A * rho / n
			for k := range p.st.Logits {
				for u := range grads[k] {
					d := -probs[k][u]
					if u == a[k] {
						d++
					}
					grads[k][u] += w * d
				}
			}
		}
		// Entropy bonus: dH_k/dlogit_u = -p_u (log p_u + H_k).
		for k := range p.st.Logits {
			h := 0.0
			for u, pu := range probs[k] {
				h -= pu * logp[k][u]
			}
			for u, pu := range probs[k] {
				grads[k][u] += p.c.Entropy * pu * (logp[k][u] + h)
			}
		}
		// Value baseline: d/dB mean (B - r)^2.
		grads[len(p.st.Logits)][0] = 2 * (p.st.B[0] - mean)
		p.st.Opt.step(p.params(), grads)
	}
	probs, logp = p.dist()
	h := 0.0
	for k := range probs {
		for u, pu := range probs[k] {
			h -= pu * logp[k][u]
		}
	}
	p.st.Entropy, p.st.Clip, p.st.KL = h, clipped/n, kl
	p.st.ValueError = p.st.B[0] - mean
}

func (p *ppo) Metrics(m contract.Metrics) {
	m["policy_entropy"] = p.st.Entropy
	m["clip_frac"] = p.st.Clip
	m["approx_kl"] = p.st.KL
	m["value_error"] = p.st.ValueError
}

func (p *ppo) State() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(&p.st)
	return b.Bytes(), err
}

func (p *ppo) SetState(data []byte) error {
	var st ppoState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return err
	}
	if err := sameShape("logits", st.Logits, p.st.Logits); err != nil {
		return err
	}
	if len(st.B) != 1 || st.Opt == nil || len(st.Opt.M) != len(p.params()) {
		return errShape("ppo optimiser state")
	}
	st.Opt.restoreZeros(p.params())
	p.st = st
	return nil
}
