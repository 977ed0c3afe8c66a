package commformer

import (
	"fmt"
	"math/rand/v2"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/marl"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainGraph is the teacher-forced PPO loss and its gradient for a batch of
// B samples (B*N rows), compiled once and re-run with new inputs.
type trainGraph struct {
	B      int
	g      *G.ExprGraph
	vm     G.VM
	binder *attention.Binder
	adj    *comm.Adj
	gate   *comm.GateNode
	rank   *attention.Ranks // decoding order of every sample (B*N)
	// sparse makes the attention visit only each receiver's senders; set
	// On only when the gradient of unselected edges is not wanted (see
	// setSparse).
	sparse *attention.Sparse

	obs, tok, onehot, mask   *tensor.Dense // [B*N, O], [B*N, A+1], [B*N, A], [B*N, A]
	oldLogp, adv, oldV, targ *tensor.Dense // [B*N]
	loss                     *marl.FusedPPO
	total, gateCost          *G.Node
	// valueWeight is the value-loss coefficient of the run: ValueCoef for
	// model steps, AlphaValueCoef for alpha steps.
	valueWeight *tensor.Dense
	// entWeight is the entropy coefficient of the iteration (entropy_coef,
	// annealed with entropy_decay).
	entWeight *tensor.Dense

	// Copies of intermediate values taken during the run (the tape machine
	// reuses the memory of dead nodes, so Node.Value is not reliable after
	// RunAll for anything but inputs and parameter gradients).
	// The ratios are read from tg.loss.Ratio().
	rTotal, rPolicy, rValue, rEntropy, rGateCost G.Value
}

// setSparse selects the cost of the attention of tg's next runs: over each
// receiver's senders only (O(N k d) per sample for a top-k graph) when no
// gradient of unselected edges is wanted: the graph no longer learns
// (frozen, or a fixed variant), or the run is a model step (alphaStep false:
// the alpha gradient of that run is not read); the dense pass while an alpha
// step learns (its unselected edges get gradient through the renormalised
// mask) or when m.denseOnly. The model's gradients are the same either way.
func (m *model) setSparse(tg *trainGraph, mode comm.Mode, alphaStep bool) {
	tg.sparse.On = !m.denseOnly && (mode == comm.ModeFrozen || !m.graph.Learnable() || !alphaStep)
}

// gateLoss holds the gate's loss weights: the communication cost lambda_g
// and, for a score-function gate, the bonus on its entropy.
type gateLoss struct{ cost, entropy float64 }

func (m *model) buildTrain(B int, coefs marl.PPOCoefs, gl gateLoss) (*trainGraph, error) {
	N, A, dt := m.N, m.A, m.ps.Dtype
	R := B * N
	g := G.NewGraph()
	b := attention.NewBinder(g)
	b.Workers = m.workers
	tg := &trainGraph{B: B, g: g, binder: b, rank: &attention.Ranks{}, sparse: &attention.Sparse{}}
	var obsN, tokN, ohN, maskN, olN, advN, ovN, tN *G.Node
	obsN, tg.obs = input(g, dt, "obs", R, m.O)
	tokN, tg.tok = input(g, dt, "tok", R, A+1)
	ohN, tg.onehot = input(g, dt, "onehot", R, A)
	maskN, tg.mask = input(g, dt, "mask", R, A)
	olN, tg.oldLogp = input(g, dt, "old_logp", R)
	advN, tg.adv = input(g, dt, "adv", R)
	ovN, tg.oldV = input(g, dt, "old_v", R)
	tN, tg.targ = input(g, dt, "targ", R)
	// The mask is constant per batch shape.
	mk := make([]float32, R*A)
	for s := 0; s < B; s++ {
		copy(mk[s*N*A:], m.maskRow)
	}
	put(tg.mask, mk)

	emb, err := m.embed(b, obsN)
	if err != nil {
		return nil, err
	}
	if tg.gate, err = m.gate.Bind(b, emb, B, N); err != nil {
		return nil, err
	}
	var gateN *G.Node
	if m.gate.Enabled() {
		gateN = tg.gate.G
	}
	tg.adj = m.graph.Bind(b, comm.ModeExact)
	cg, err := m.commGraph(b, tg.adj, gateN, tg.rank, tg.sparse)
	if err != nil {
		return nil, err
	}
	rep, vals, err := m.encodeWithCritic(b, emb, cg)
	if err != nil {
		return nil, err
	}
	if vals, err = G.Reshape(vals, tensor.Shape{R}); err != nil {
		return nil, err
	}
	logp, err := m.decode(b, tokN, m.blankInput(g, R), rep, maskN, cg)
	if err != nil {
		return nil, err
	}
	score := m.gate.Enabled() && m.gate.Config().Score
	var lpg *G.Node
	if score {
		// The gate is part of the agent's decision: the policy ratio is that
		// of the pair (gate, action), log P(g|x) + log P(a|g,...).
		if lpg, err = tg.gate.LogProb(); err != nil {
			return nil, err
		}
		if lpg, err = G.Reshape(lpg, tensor.Shape{R}); err != nil {
			return nil, err
		}
	}
	if tg.loss, err = marl.BuildFusedPPO(logp, ohN, lpg, olN, advN, vals, ovN, tN, coefs); err != nil {
		return nil, err
	}
	// total = policy - c_e entropy + w_v value, with c_e and w_v inputs set
	// per run (the entropy bonus may be annealed; the graph optimiser may
	// weigh the critic differently).
	var vw, ew *G.Node
	if vw, tg.valueWeight, err = scalarInput(g, dt, "value_weight", coefs.ValueCoef); err != nil {
		return nil, err
	}
	ve, err := G.Mul(tg.loss.Value, vw)
	if err != nil {
		return nil, err
	}
	if ew, tg.entWeight, err = scalarInput(g, dt, "entropy_weight", coefs.EntropyCoef); err != nil {
		return nil, err
	}
	if tg.total, err = G.Mul(tg.loss.Entropy, ew); err != nil {
		return nil, err
	}
	if tg.total, err = G.Sub(tg.loss.Policy, tg.total); err != nil {
		return nil, err
	}
	if tg.total, err = G.Add(tg.total, ve); err != nil {
		return nil, err
	}
	if m.gate.Enabled() && gl.cost > 0 {
		if tg.gateCost, err = tg.gate.Cost(gl.cost); err != nil {
			return nil, err
		}
		if tg.total, err = G.Add(tg.total, tg.gateCost); err != nil {
			return nil, err
		}
	}
	if score && gl.entropy > 0 {
		ge, err := tg.gate.Entropy()
		if err != nil {
			return nil, err
		}
		if ge, err = G.Mean(ge); err != nil {
			return nil, err
		}
		gw, _, err := scalarInput(g, dt, "gate_entropy_weight", gl.entropy)
		if err != nil {
			return nil, err
		}
		if ge, err = G.Mul(ge, gw); err != nil {
			return nil, err
		}
		if tg.total, err = G.Sub(tg.total, ge); err != nil {
			return nil, err
		}
	}
	G.Read(tg.total, &tg.rTotal)
	G.Read(tg.loss.Policy, &tg.rPolicy)
	G.Read(tg.loss.Value, &tg.rValue)
	G.Read(tg.loss.Entropy, &tg.rEntropy)
	if tg.gateCost != nil {
		G.Read(tg.gateCost, &tg.rGateCost)
	}
	if _, err := b.Backward(tg.total); err != nil {
		return nil, err
	}
	tg.vm = attention.NewMachine(g)
	return tg, nil
}

// encGraph computes embeddings, gates, encoder representation and values for
// a batch of B samples (acting and value estimates).
type encGraph struct {
	B      int
	vm     G.VM
	adj    *comm.Adj
	gate   *comm.GateNode
	obs    *tensor.Dense
	rep    G.Value // [B*N, d], copied during the run
	values G.Value // [B*N, 1]
}

func (m *model) buildEnc(B int) (*encGraph, error) {
	N, dt := m.N, m.ps.Dtype
	g := G.NewGraph()
	b := attention.NewBinder(g)
	b.Workers = m.workers
	eg := &encGraph{B: B}
	var obsN *G.Node
	obsN, eg.obs = input(g, dt, "obs", B*N, m.O)
	emb, err := m.embed(b, obsN)
	if err != nil {
		return nil, err
	}
	if eg.gate, err = m.gate.Bind(b, emb, B, N); err != nil {
		return nil, err
	}
	eg.gate.SetActing()
	var gateN *G.Node
	if m.gate.Enabled() {
		gateN = eg.gate.G
	}
	eg.adj = m.graph.Bind(b, comm.ModeExact)
	// Acting needs no gradient: attention over the senders only.
	cg, err := m.commGraph(b, eg.adj, gateN, nil, &attention.Sparse{On: true})
	if err != nil {
		return nil, err
	}
	rep, vals, err := m.encodeWithCritic(b, emb, cg)
	if err != nil {
		return nil, err
	}
	G.Read(rep, &eg.rep)
	G.Read(vals, &eg.values)
	eg.vm = attention.NewMachine(g)
	return eg, nil
}

// decGraph computes the masked action log-probabilities of all agents given
// the encoder representation, the gates and the shifted action tokens.
type decGraph struct {
	B              int
	vm             G.VM
	adj            *comm.Adj
	rank           *attention.Ranks // the decoding order, shared by the samples (N)
	rep, tok, gate *tensor.Dense
	logp           G.Value // [B*N, A], copied during the run
}

func (m *model) buildDec(B int) (*decGraph, error) {
	N, A, dt := m.N, m.A, m.ps.Dtype
	R := B * N
	g := G.NewGraph()
	b := attention.NewBinder(g)
	b.Workers = m.workers
	dg := &decGraph{B: B, rank: &attention.Ranks{}}
	repN, rep := input(g, dt, "rep", R, m.D)
	tokN, tok := input(g, dt, "tok", R, A+1)
	maskN, mask := input(g, dt, "mask", R, A)
	dg.rep, dg.tok = rep, tok
	mk := make([]float32, R*A)
	for s := 0; s < B; s++ {
		copy(mk[s*N*A:], m.maskRow)
	}
	put(mask, mk)
	var gateN *G.Node
	if m.gate.Enabled() {
		gateN, dg.gate = input(g, dt, "gate", B, N)
	}
	dg.adj = m.graph.Bind(b, comm.ModeExact)
	cg, err := m.commGraph(b, dg.adj, gateN, dg.rank, &attention.Sparse{On: true})
	if err != nil {
		return nil, err
	}
	logp, err := m.decode(b, tokN, m.blankInput(g, R), repN, maskN, cg)
	if err != nil {
		return nil, err
	}
	G.Read(logp, &dg.logp)
	dg.vm = attention.NewMachine(g)
	return dg, nil
}

// actor holds the compiled acting graphs of one batch size.
type actor struct {
	m   *model
	enc *encGraph
	dec *decGraph
	// dist holds, after act, every agent's log-probabilities [B*N, A] at
	// the pass in which it chose.
	dist []float32
	// scratch
	norm []float32
	logp []float32
	tok  []float32
	gate []float64
}

func (m *model) newActor(B int) (*actor, error) {
	e, err := m.buildEnc(B)
	if err != nil {
		return nil, fmt.Errorf("commformer: build acting encoder: %w", err)
	}
	d, err := m.buildDec(B)
	if err != nil {
		return nil, fmt.Errorf("commformer: build acting decoder: %w", err)
	}
	return &actor{m: m, enc: e, dec: d, norm: make([]float32, B*m.N*m.O), logp: make([]float32, B*m.N*m.A), dist: make([]float32, B*m.N*m.A), tok: make([]float32, B*m.N*(m.A+1))}, nil
}

// setMode sets the graph mode of every binding (warm-up or exact when acting).
func (a *actor) setMode(mode comm.Mode) {
	a.enc.adj.SetMode(mode)
	a.dec.adj.SetMode(mode)
}

// values runs the encoder on obs [B*N*O] and writes the normalised values
// [B*N].
func (a *actor) values(obs []float32, values []float32) error {
	return a.m.values(a, obs, values, nil)
}

// act chooses actions on the gorgonia graphs (see model.act).
func (a *actor) act(obs []float32, order, forced []int32, greedy bool, rng *rand.Rand, actions []int32, logp, values []float32, gates []float64) error {
	return a.m.act(a, obs, order, forced, greedy, rng, actions, logp, values, gates)
}

// policy is an acting path: the gorgonia graphs (any dtype) or the plain
// float32 inference path (float32 models).
type policy interface {
	setMode(comm.Mode)
	act(obs []float32, order, forced []int32, greedy bool, rng *rand.Rand, actions []int32, logp, values []float32, gates []float64) error
	values(obs []float32, values []float32) error
}

// values runs the encoder on obs [B*N*O] and writes the normalised values
// [B*N] (and, if gates is non-nil, the acting gates [B*N]).
func (m *model) values(a *actor, obs []float32, values []float32, gates []float64) error {
	e := a.enc
	normObs(a.norm, obs, m.O)
	put(e.obs, a.norm)
	defer e.vm.Reset()
	if err := e.vm.RunAll(); err != nil {
		return fmt.Errorf("commformer: encoder: %w", err)
	}
	get(values, e.values)
	if gates != nil {
		copy(gates, e.gate.Values())
	}
	return nil
}
