package attention

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is a named trainable tensor shared by every graph built from a model.
type Param struct {
	Name  string
	Value *tensor.Dense
}

// Size returns the number of scalars in the parameter.
func (p *Param) Size() int { return p.Value.Shape().TotalSize() }

// Params is an ordered set of parameters of one dtype. The order is the
// creation order; optimisers and checkpoints rely on it.
type Params struct {
	Dtype  tensor.Dtype
	list   []*Param
	byName map[string]*Param
}

// NewParams returns an empty parameter set of the given dtype
// (tensor.Float32 for training, tensor.Float64 for gradient checks).
func NewParams(dt tensor.Dtype) *Params {
	return &Params{Dtype: dt, byName: map[string]*Param{}}
}

// Init fills a freshly allocated parameter (as float64 values, converted to
// the set's dtype).
type Init func(shape []int, out []float64)

// Zeros initialises to 0.
func Zeros(shape []int, out []float64) {
	for i := range out {
		out[i] = 0
	}
}

// Ones initialises to 1.
func Ones(shape []int, out []float64) {
	for i := range out {
		out[i] = 1
	}
}

// Const initialises every entry to v.
func Const(v float64) Init {
	return func(shape []int, out []float64) {
		for i := range out {
			out[i] = v
		}
	}
}

// Uniform initialises from U(-b, b) with b = gain*sqrt(6/(fanIn+fanOut))
// (Glorot & Bengio 2010), using the caller's seeded source. For a 1-D shape the
// fan-in and fan-out are both the length.
func Uniform(rng *rand.Rand, gain float64) Init {
	return func(shape []int, out []float64) {
		fanIn, fanOut := shape[0], shape[0]
		if len(shape) > 1 {
			fanOut = shape[len(shape)-1]
		}
		b := gain * math.Sqrt(6/float64(fanIn+fanOut))
		for i := range out {
			out[i] = (2*rng.Float64() - 1) * b
		}
	}
}

// New creates, initialises and registers a parameter. Names must be unique.
func (ps *Params) New(name string, shape []int, init Init) *Param {
	if _, dup := ps.byName[name]; dup {
		panic(fmt.Sprintf("attention: duplicate parameter name %q", name))
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	vals := make([]float64, n)
	init(shape, vals)
	var t *tensor.Dense
	switch ps.Dtype {
	case tensor.Float32:
		b := make([]float32, n)
		for i, v := range vals {
			b[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
	case tensor.Float64:
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	default:
		panic(fmt.Sprintf("attention: unsupported dtype %v", ps.Dtype))
	}
	p := &Param{Name: name, Value: t}
	ps.list = append(ps.list, p)
	ps.byName[name] = p
	return p
}

// List returns the parameters in creation order.
func (ps *Params) List() []*Param { return ps.list }

// Get returns the parameter with the given name, or nil.
func (ps *Params) Get(name string) *Param { return ps.byName[name] }

// Count returns the total number of scalars.
func (ps *Params) Count() int {
	n := 0
	for _, p := range ps.list {
		n += p.Size()
	}
	return n
}

// Binder binds parameters into one expression graph: one node per parameter,
// created on first use and backed by the parameter's tensor.
type Binder struct {
	G     *G.ExprGraph
	nodes map[*Param]*G.Node
	order []*Param
	grads map[*Param]*G.Node // set by Backward

	// Workers bounds the goroutines each fused kernel built through this
	// binder may use in one run (0 = GOMAXPROCS, 1 = serial): the
	// attention core splits its passes over samples and receivers, the
	// linear layers' products over blocks of their output, the float32
	// LayerNorm over rows and columns and GELU (Binder.Activate) over
	// element blocks; small passes stay on one goroutine. The splits give
	// every output element the same operations in the same order as the
	// serial code, so results do not depend on Workers. Set it before
	// building the graph.
	Workers int
}

// NewBinder returns a binder for graph g.
func NewBinder(g *G.ExprGraph) *Binder {
	return &Binder{G: g, nodes: map[*Param]*G.Node{}}
}

// Node returns the graph node of p, creating it on first use.
func (b *Binder) Node(p *Param) *G.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	var n *G.Node
	shape := p.Value.Shape()
	switch len(shape) {
	case 1:
		n = G.NewVector(b.G, p.Value.Dtype(), G.WithShape(shape...), G.WithName(p.Name), G.WithValue(p.Value))
	case 2:
		n = G.NewMatrix(b.G, p.Value.Dtype(), G.WithShape(shape...), G.WithName(p.Name), G.WithValue(p.Value))
	default:
		n = G.NewTensor(b.G, p.Value.Dtype(), len(shape), G.WithShape(shape...), G.WithName(p.Name), G.WithValue(p.Value))
	}
	b.nodes[p] = n
	b.order = append(b.order, p)
	return n
}

// Bound returns the parameters bound so far, in binding order, with their nodes.
func (b *Binder) Bound() ([]*Param, []*G.Node) {
	ns := make([]*G.Node, len(b.order))
	for i, p := range b.order {
		ns[i] = b.nodes[p]
	}
	return b.order, ns
}
