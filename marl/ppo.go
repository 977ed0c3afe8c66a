package marl

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PPO loss pieces on gorgonia nodes (Schulman et al. 2017, "Proximal Policy
// Optimization Algorithms"; the value clipping and Huber loss follow MAPPO).
// Inputs are vectors or matrices of equal shape with one entry per
// (sample, agent); every loss is a mean over all entries. min and max are
// written with |.| (min(a,b) = (a+b-|a-b|)/2) so that their gradients are
// plain elementwise ops on any machine.

// scalarNode returns a constant scalar node of dtype dt.
func scalarNode(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// minNode returns the elementwise minimum of a and b.
func minNode(a, b *G.Node) (*G.Node, error) { return minmax(a, b, -1) }

// maxNode returns the elementwise maximum of a and b.
func maxNode(a, b *G.Node) (*G.Node, error) { return minmax(a, b, +1) }

func minmax(a, b *G.Node, sign float64) (*G.Node, error) {
	d, err := G.Sub(a, b)
	if err != nil {
		return nil, err
	}
	ad, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	s, err := G.Add(a, b)
	if err != nil {
		return nil, err
	}
	if sign > 0 {
		s, err = G.Add(s, ad)
	} else {
		s, err = G.Sub(s, ad)
	}
	if err != nil {
		return nil, err
	}
	return G.Mul(s, scalarNode(a.Dtype(), 0.5))
}

// clampNode returns min(max(x, lo), hi) elementwise.
func clampNode(x *G.Node, lo, hi float64) (*G.Node, error) {
	dt := x.Dtype()
	// max(x, lo) = (x + lo + |x - lo|)/2, written with scalars to avoid broadcasts.
	d, err := G.Sub(x, scalarNode(dt, lo))
	if err != nil {
		return nil, err
	}
	ad, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	// y = lo + (d + |d|)/2
	y, err := G.Add(d, ad)
	if err != nil {
		return nil, err
	}
	if y, err = G.Mul(y, scalarNode(dt, 0.5)); err != nil {
		return nil, err
	}
	// min(y+lo, hi) = hi - relu(hi - lo - y) ... = hi - ((hi-lo-y) + |hi-lo-y|)/2
	e, err := G.Sub(scalarNode(dt, hi-lo), y)
	if err != nil {
		return nil, err
	}
	ae, err := G.Abs(e)
	if err != nil {
		return nil, err
	}
	r, err := G.Add(e, ae)
	if err != nil {
		return nil, err
	}
	if r, err = G.Mul(r, scalarNode(dt, 0.5)); err != nil {
		return nil, err
	}
	return G.Sub(scalarNode(dt, hi), r)
}

// policyLoss is the clipped surrogate: -mean(min(r A, clip(r, 1-c, 1+c) A))
// with r = exp(logp - oldLogp). It also returns the ratio node (for the
// clip fraction and approximate KL, which are read after the forward pass).
func policyLoss(logp, oldLogp, adv *G.Node, clip float64) (loss, ratio *G.Node, err error) {
	defer wrap(&err, "policy loss")
	d, err := G.Sub(logp, oldLogp)
	if err != nil {
		return nil, nil, err
	}
	if ratio, err = G.Exp(d); err != nil {
		return nil, nil, err
	}
	s1, err := G.HadamardProd(ratio, adv)
	if err != nil {
		return nil, nil, err
	}
	cr, err := clampNode(ratio, 1-clip, 1+clip)
	if err != nil {
		return nil, nil, err
	}
	s2, err := G.HadamardProd(cr, adv)
	if err != nil {
		return nil, nil, err
	}
	m, err := minNode(s1, s2)
	if err != nil {
		return nil, nil, err
	}
	mean, err := G.Mean(m)
	if err != nil {
		return nil, nil, err
	}
	loss, err = G.Neg(mean)
	return loss, ratio, err
}

// huber returns the elementwise Huber loss of e with threshold delta:
// e^2/2 for |e| <= delta, delta (|e| - delta/2) otherwise, written as
// q^2/2 + delta (|e| - q) with q = min(|e|, delta).
func huber(e *G.Node, delta float64) (*G.Node, error) {
	dt := e.Dtype()
	a, err := G.Abs(e)
	if err != nil {
		return nil, err
	}
	// q = min(a, delta) = (a + delta - |a - delta|)/2
	d, err := G.Sub(a, scalarNode(dt, delta))
	if err != nil {
		return nil, err
	}
	ad, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	q, err := G.Sub(d, ad) // = 2q - 2 delta
	if err != nil {
		return nil, err
	}
	if q, err = G.Mul(q, scalarNode(dt, 0.5)); err != nil {
		return nil, err
	}
	if q, err = G.Add(q, scalarNode(dt, delta)); err != nil {
		return nil, err
	}
	q2, err := G.Square(q)
	if err != nil {
		return nil, err
	}
	if q2, err = G.Mul(q2, scalarNode(dt, 0.5)); err != nil {
		return nil, err
	}
	lin, err := G.Sub(a, q)
	if err != nil {
		return nil, err
	}
	if lin, err = G.Mul(lin, scalarNode(dt, delta)); err != nil {
		return nil, err
	}
	return G.Add(q2, lin)
}

// valueLoss is MAPPO's clipped Huber value loss:
// mean(max(H(t - v), H(t - (old + clip(v - old, -c, c))))) with targets t
// already normalised.
func valueLoss(values, oldValues, targets *G.Node, clip, delta float64) (loss *G.Node, err error) {
	defer wrap(&err, "value loss")
	dv, err := G.Sub(values, oldValues)
	if err != nil {
		return nil, err
	}
	cdv, err := clampNode(dv, -clip, clip)
	if err != nil {
		return nil, err
	}
	vc, err := G.Add(oldValues, cdv)
	if err != nil {
		return nil, err
	}
	e1, err := G.Sub(targets, values)
	if err != nil {
		return nil, err
	}
	e2, err := G.Sub(targets, vc)
	if err != nil {
		return nil, err
	}
	h1, err := huber(e1, delta)
	if err != nil {
		return nil, err
	}
	h2, err := huber(e2, delta)
	if err != nil {
		return nil, err
	}
	m, err := maxNode(h1, h2)
	if err != nil {
		return nil, err
	}
	return G.Mean(m)
}

// maskedLogSoftmax returns log-softmax over the last axis of logits [R, A]
// after adding the additive mask [R, A] (0 for available actions, a large
// negative number for unavailable ones).
func maskedLogSoftmax(logits, mask *G.Node) (*G.Node, error) {
	x, err := G.Add(logits, mask)
	if err != nil {
		return nil, fmt.Errorf("masked log-softmax: %w", err)
	}
	return G.LogSoftMax(x, 1)
}

// ChosenAndEntropy returns, from log-probabilities logp [R, A] and a one-hot
// of the taken actions [R, A], the taken actions' log-probabilities [R] and
// the mean entropy (a scalar).
func ChosenAndEntropy(logp, onehot *G.Node) (chosen, entropy *G.Node, err error) {
	defer wrap(&err, "log-prob and entropy")
	sel, err := G.HadamardProd(logp, onehot)
	if err != nil {
		return nil, nil, err
	}
	if chosen, err = G.Sum(sel, 1); err != nil {
		return nil, nil, err
	}
	p, err := G.Exp(logp)
	if err != nil {
		return nil, nil, err
	}
	plp, err := G.HadamardProd(p, logp)
	if err != nil {
		return nil, nil, err
	}
	h, err := G.Sum(plp, 1)
	if err != nil {
		return nil, nil, err
	}
	m, err := G.Mean(h)
	if err != nil {
		return nil, nil, err
	}
	entropy, err = G.Neg(m)
	return chosen, entropy, err
}

// PPOCoefs are the weights of the combined loss.
type PPOCoefs struct {
	Clip        float64 // policy ratio clip (and value clip, as in MAPPO)
	HuberDelta  float64 // Huber threshold of the value loss (10)
	ValueCoef   float64 // weight of the value loss (1)
	EntropyCoef float64 // weight of the entropy bonus (0.01)
}

// defaultPPOCoefs returns clip 0.2, Huber delta 10, value 1, entropy 0.01.
func defaultPPOCoefs() PPOCoefs {
	return PPOCoefs{Clip: 0.2, HuberDelta: 10, ValueCoef: 1, EntropyCoef: 0.01}
}

// PPOLoss holds the nodes of the combined loss
// policy - EntropyCoef*entropy + ValueCoef*value.
type PPOLoss struct {
	Total, Policy, Value, Entropy, Ratio *G.Node
}

// BuildPPOLoss assembles the combined loss from the model's taken-action
// log-probabilities, mean entropy and normalised values.
func BuildPPOLoss(logp, oldLogp, adv, entropy, values, oldValues, targets *G.Node, c PPOCoefs) (*PPOLoss, error) {
	pl, ratio, err := policyLoss(logp, oldLogp, adv, c.Clip)
	if err != nil {
		return nil, err
	}
	vl, err := valueLoss(values, oldValues, targets, c.Clip, c.HuberDelta)
	if err != nil {
		return nil, err
	}
	dt := logp.Dtype()
	ve, err := G.Mul(vl, scalarNode(dt, c.ValueCoef))
	if err != nil {
		return nil, fmt.Errorf("ppo loss: %w", err)
	}
	ee, err := G.Mul(entropy, scalarNode(dt, c.EntropyCoef))
	if err != nil {
		return nil, fmt.Errorf("ppo loss: %w", err)
	}
	tot, err := G.Sub(pl, ee)
	if err != nil {
		return nil, fmt.Errorf("ppo loss: %w", err)
	}
	if tot, err = G.Add(tot, ve); err != nil {
		return nil, fmt.Errorf("ppo loss: %w", err)
	}
	return &PPOLoss{Total: tot, Policy: pl, Value: vl, Entropy: entropy, Ratio: ratio}, nil
}

func wrap(err *error, what string) {
	if *err != nil {
		*err = fmt.Errorf("%s: %w", what, *err)
	}
}
