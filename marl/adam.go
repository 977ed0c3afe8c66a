package marl

import (
	"fmt"
	"math"

	"github.com/commgraph/commgraph/attention"
	"gorgonia.org/tensor"
)

// Adam is the Adam optimiser (Kingma & Ba 2015, "Adam: A Method for Stochastic
// Optimization") in the form PyTorch implements it:
//
//	m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2
//	p <- p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//
// It updates attention.Param tensors in place. Its moments are float64
// whatever the parameters' dtype, and are checkpointed with the step count.
type Adam struct {
	LR, Beta1, Beta2, Eps float64

	Step int         // number of completed updates
	M, V [][]float64 // first and second moments, one slice per parameter
}

// NewAdam returns an optimiser for the given parameters (betas 0.9, 0.999).
func NewAdam(params []*attention.Param, lr, eps float64) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: eps}
	a.M = make([][]float64, len(params))
	a.V = make([][]float64, len(params))
	for i, p := range params {
		a.M[i] = make([]float64, p.Size())
		a.V[i] = make([]float64, p.Size())
	}
	return a
}

// Update applies one step to params from grads (same order and shapes).
func (a *Adam) Update(params []*attention.Param, grads []*tensor.Dense) error {
	if len(params) != len(a.M) || len(grads) != len(params) {
		return fmt.Errorf("marl: adam has %d moment slots, got %d params and %d grads", len(a.M), len(params), len(grads))
	}
	a.Step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := math.Sqrt(1 - math.Pow(a.Beta2, float64(a.Step)))
	lr := a.LR / bc1
	b1, b2 := a.Beta1, a.Beta2
	for i, p := range params {
		m, v := a.M[i], a.V[i]
		if len(m) != p.Size() || grads[i].Shape().TotalSize() != p.Size() {
			return fmt.Errorf("marl: adam: parameter %q has %d values, moments %d, gradient %d", p.Name, p.Size(), len(m), grads[i].Shape().TotalSize())
		}
		switch w := p.Value.Data().(type) {
		case []float32:
			g, ok := grads[i].Data().([]float32)
			if !ok {
				return fmt.Errorf("marl: adam: gradient of %q is not float32", p.Name)
			}
			for j := range w {
				gj := float64(g[j])
				m[j] = b1*m[j] + (1-b1)*gj
				v[j] = b2*v[j] + (1-b2)*gj*gj
				w[j] -= float32(lr * m[j] / (math.Sqrt(v[j])/bc2 + a.Eps))
			}
		case []float64:
			g, ok := grads[i].Data().([]float64)
			if !ok {
				return fmt.Errorf("marl: adam: gradient of %q is not float64", p.Name)
			}
			for j := range w {
				gj := g[j]
				m[j] = b1*m[j] + (1-b1)*gj
				v[j] = b2*v[j] + (1-b2)*gj*gj
				w[j] -= lr * m[j] / (math.Sqrt(v[j])/bc2 + a.Eps)
			}
		default:
			return fmt.Errorf("marl: adam: parameter %q has unsupported dtype %v", p.Name, p.Value.Dtype())
		}
	}
	return nil
}

// GradNorm returns the global L2 norm of the gradients (accumulated in
// float64); it is NaN or +Inf when a gradient is not finite.
func GradNorm(grads []*tensor.Dense) float64 {
	var s float64
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			for _, x := range d {
				s += float64(x) * float64(x)
			}
		case []float64:
			for _, x := range d {
				s += x * x
			}
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm rescales the gradients in place so that their global L2 norm
// is at most maxNorm (coefficient maxNorm/(norm+1e-6), as PyTorch's
// clip_grad_norm_), and returns the norm before clipping. Non-finite norms
// are returned without touching the gradients.
func ClipGradNorm(grads []*tensor.Dense, maxNorm float64) float64 {
	n := GradNorm(grads)
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return n
	}
	c := maxNorm / (n + 1e-6)
	if c >= 1 {
		return n
	}
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			cf := float32(c)
			for j := range d {
				d[j] *= cf
			}
		case []float64:
			for j := range d {
				d[j] *= c
			}
		}
	}
	return n
}

// AllFinite reports whether every gradient entry is finite.
func AllFinite(grads []*tensor.Dense) bool {
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			for _, x := range d {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return false
				}
			}
		case []float64:
			for _, x := range d {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return false
				}
			}
		}
	}
	return true
}
