package attention

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Backward adds to the graph the symbolic gradient of cost (a scalar node)
// with respect to every parameter bound so far and to the extra nodes (for
// example the graph matrix A or a gate that is not a Param), and returns the
// gradient nodes of the extras in order. Call it once, after the whole
// forward graph is built and before compiling the TapeMachine. The gradients
// are fresh values on every run (they do not accumulate across runs), but
// the machine must be Reset() between runs.
func (b *Binder) Backward(cost *G.Node, extra ...*G.Node) (G.Nodes, error) {
	if b.grads != nil {
		return nil, errors.New("attention: Backward called twice on one binder")
	}
	ps, ns := b.Bound()
	wrt := append(append(G.Nodes{}, ns...), extra...)
	gs, err := G.Grad(cost, wrt...)
	if err != nil {
		return nil, fmt.Errorf("attention: gradient: %w", err)
	}
	b.grads = make(map[*Param]*G.Node, len(ps))
	for i, p := range ps {
		b.grads[p] = gs[i]
	}
	return gs[len(ps):], nil
}

// Grad returns the gradient of p from the last run of the machine, or nil if
// p is not bound in this graph. The tensor belongs to the machine: read or
// copy it before the next run.
func (b *Binder) Grad(p *Param) (*tensor.Dense, error) {
	if b.grads == nil {
		return nil, errors.New("attention: Grad before Backward")
	}
	n, ok := b.grads[p]
	if !ok {
		return nil, nil
	}
	v := n.Value()
	if v == nil {
		return nil, fmt.Errorf("attention: gradient of %s not computed (machine not run?)", p.Name)
	}
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("attention: gradient of %s is %T", p.Name, v)
	}
	return d, nil
}

// Grads returns the gradients of every parameter of ps in ps.List() order
// after a run; the entry is nil for a parameter not bound in b's graph. See
// Grad for the lifetime of the tensors.
func Grads(b *Binder, ps *Params) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(ps.List()))
	for i, p := range ps.List() {
		g, err := b.Grad(p)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}
