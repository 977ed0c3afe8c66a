package comm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GateConfig configures the temporal gate (spec section 3; the extension
// paper, arXiv 2411.00382, does not publish its form, so this design is ours).
type GateConfig struct {
	Enabled  bool    // false: the gate is constant ones (every agent always receives)
	Dim      int     // observation-embedding width d (input of the gate MLP)
	Hidden   int     // hidden width of the gate MLP; 0 = a linear gate l = x w + b
	Tau      float64 // binary-concrete temperature tau_g (> 0)
	InitBias float64 // initial output bias: P(receive) starts at sigmoid(InitBias)
	// Score trains the gate as a stochastic decision (the score-function,
	// or REINFORCE, estimator; Williams 1992): acting samples g ~
	// Bernoulli(sigmoid(l)), training replays the sampled gates (SetGates)
	// and the gate learns through log P(g | x) (LogProb) in the policy
	// ratio, with no straight-through gradient. false: the straight-through
	// binary-concrete gate below.
	Score bool
}

// DefaultGateConfig returns an enabled gate for embedding width d: hidden 32,
// tau_g = 1, initial bias 2 (so agents start out receiving in about 88% of
// steps, close to the ungated model).
func DefaultGateConfig(d int) GateConfig {
	return GateConfig{Enabled: true, Dim: d, Hidden: 32, Tau: 1, InitBias: 2}
}

// Gate is the per-receiver temporal gate: a logit l_i = MLP(x_i) of agent i's
// observation embedding, MLP = Linear(d,H) -> ReLU -> Linear(H,1) (or
// Linear(d,1) when Hidden = 0), built from attention's fused Linear and
// activation kernels.
type Gate struct {
	cfg    GateConfig
	dtype  tensor.Dtype
	hidden *attention.Linear // nil for a linear gate
	W1, B1 *attention.Param  // [d,H], [H] (nil for a linear gate)
	W2, B2 *attention.Param  // output layer [H,1] (or [d,1]), [1]
	// held: every gate is open (g = z = 1) and the gate gets no gradient
	// (Hold), e.g. while the model first learns to read messages.
	held bool
}

// Hold holds every gate open (g = z = 1, so the straight-through gradient
// z(1-z)/tau of the gate is zero) while open is true, in training and in
// acting; Hold(false) returns to the learned gate. Early in training messages
// are noise to the model, and an unheld gate learns to close before they
// become useful (docs/results.md).
func (gt *Gate) Hold(open bool) { gt.held = open }

// Held reports whether the gates are held open.
func (gt *Gate) Held() bool { return gt.held }

// NewGate creates the gate's parameters prefix+".hidden.w", ".hidden.b"
// (unless Hidden = 0), ".out.w", ".out.b" in ps (the model's set: the gate is
// trained by the model optimiser), initialising weights from rng (Glorot
// uniform, gain 1), the hidden bias to 0 and the output bias to InitBias. A
// disabled gate registers nothing.
func NewGate(ps *attention.Params, prefix string, cfg GateConfig, rng *rand.Rand) (*Gate, error) {
	if ps == nil {
		return nil, errors.New("comm: NewGate: nil Params")
	}
	gt := &Gate{cfg: cfg, dtype: ps.Dtype}
	if !cfg.Enabled {
		return gt, nil
	}
	if cfg.Tau == 0 {
		cfg.Tau = 1
		gt.cfg.Tau = 1
	}
	switch {
	case cfg.Dim <= 0:
		return nil, fmt.Errorf("comm: gate: dim = %d, must be > 0", cfg.Dim)
	case cfg.Hidden < 0:
		return nil, fmt.Errorf("comm: gate: hidden = %d, must be >= 0", cfg.Hidden)
	case !(cfg.Tau > 0) || math.IsInf(cfg.Tau, 0):
		return nil, fmt.Errorf("comm: gate: tau = %v, must be > 0", cfg.Tau)
	case math.IsNaN(cfg.InitBias) || math.IsInf(cfg.InitBias, 0):
		return nil, fmt.Errorf("comm: gate: init_bias = %v, must be finite", cfg.InitBias)
	case rng == nil:
		return nil, errors.New("comm: NewGate: nil random source")
	}
	in := cfg.Dim
	if cfg.Hidden > 0 {
		gt.hidden = attention.NewLinear(ps, prefix+".hidden", cfg.Dim, cfg.Hidden, attention.Uniform(rng, 1))
		gt.W1, gt.B1 = gt.hidden.W, gt.hidden.B
		in = cfg.Hidden
	}
	gt.W2 = ps.New(prefix+".out.w", []int{in, 1}, attention.Uniform(rng, 1))
	gt.B2 = ps.New(prefix+".out.b", []int{1}, attention.Const(cfg.InitBias))
	return gt, nil
}

// Enabled reports whether gating is on.
func (gt *Gate) Enabled() bool { return gt.cfg.Enabled }

// Config returns the configuration.
func (gt *Gate) Config() GateConfig { return gt.cfg }

// Bind adds the gate to b's graph for a batch of `batch` samples of `agents`
// agents. x is the observation embedding [batch*agents, d] (row r = sample
// r/agents, agent r%agents). The returned node G is [batch, agents]. A new
// binding starts in acting mode (zero noise); call Resample before each
// training run. With gating off, G is a constant input node of ones.
func (gt *Gate) Bind(b *attention.Binder, x *G.Node, batch, agents int) (*GateNode, error) {
	if batch <= 0 || agents <= 0 {
		return nil, fmt.Errorf("comm: gate: batch %d and agents %d must be > 0", batch, agents)
	}
	rows := batch * agents
	gn := &GateNode{gate: gt, batch: batch, agents: agents, tau: gt.cfg.Tau,
		noise: make([]float64, rows), z: make([]float64, rows), last: make([]float64, rows),
		logits: make([]float64, rows)}
	if !gt.cfg.Enabled {
		for i := range gn.last {
			gn.last[i] = 1
			gn.z[i] = 1
		}
		t := floatsTensor(gt.dtype, []int{batch, agents}, gn.last)
		gn.G = G.NewMatrix(b.G, gt.dtype, G.WithShape(batch, agents), G.WithName(uniqueName("comm_gate_ones")), G.WithValue(t))
		return gn, nil
	}
	if x == nil {
		return nil, errors.New("comm: gate: nil embedding node")
	}
	if s := x.Shape(); len(s) != 2 || s[0] != rows || s[1] != gt.cfg.Dim {
		return nil, fmt.Errorf("comm: gate: embedding shape %v, want [%d %d]", x.Shape(), rows, gt.cfg.Dim)
	}
	h := x
	if gt.hidden != nil {
		var err error
		if h, err = gt.hidden.Forward(b, x); err != nil {
			return nil, fmt.Errorf("comm: gate: hidden layer: %w", err)
		}
		if h, err = attention.Activate(attention.ReLU, h); err != nil {
			return nil, fmt.Errorf("comm: gate: relu: %w", err)
		}
	}
	var err error
	gn.h, gn.w2, gn.b2 = h, b.Node(gt.W2), b.Node(gt.B2)
	if gn.G, err = G.ApplyOp(&gateHeadOp{gn: gn}, h, gn.w2, gn.b2); err != nil {
		return nil, fmt.Errorf("comm: gate: %w", err)
	}
	return gn, nil
}

// GateNode is one binding of a Gate into one expression graph.
//
// Training (after Resample): z = sigmoid((l + log u - log(1-u))/tau_g),
// u ~ U(0,1); g = 1[z > 0.5] forward, gradient of z (straight-through
// g - stopgrad(z) + z; Maddison et al. 2017, Jang et al. 2017, Bengio et al.
// 2013). Acting (SetActing, the initial state): zero noise, so
// g = 1[sigmoid(l/tau_g) > 0.5] = 1[sigmoid(l) > 0.5] = 1[l > 0].
type GateNode struct {
	// G is the gate [batch, agents] (ones when gating is off).
	G *G.Node

	gate          *Gate
	batch, agents int
	tau           float64
	noise         []float64 // logistic noise log u - log(1-u)
	logits        []float64 // last forward's l
	z             []float64 // last forward's relaxed gate
	last          []float64 // last forward's hard gate
	// forced, when set, replaces the hard gates of the next runs (score
	// training replays the gates sampled while acting).
	forced []float64
	// The gate head's inputs (score-function terms are built from them).
	h, w2, b2 *G.Node
}

// Resample draws u ~ U(0,1) per agent-sample from rng for the next run.
func (gn *GateNode) Resample(rng *rand.Rand) {
	if !gn.gate.cfg.Enabled {
		return
	}
	for i := range gn.noise {
		u := rng.Float64()
		for u == 0 { // Float64 is in [0,1); 0 would give -Inf
			u = rng.Float64()
		}
		gn.noise[i] = math.Log(u) - math.Log1p(-u)
	}
}

// SetUniform fixes the uniforms u (batch*agents values in (0,1)) of the next
// runs, e.g. for gradient checks.
func (gn *GateNode) SetUniform(u []float64) error {
	if len(u) != len(gn.noise) {
		return fmt.Errorf("comm: gate SetUniform: got %d values, want batch*agents = %d", len(u), len(gn.noise))
	}
	for i, v := range u {
		if !(v > 0 && v < 1) {
			return fmt.Errorf("comm: gate SetUniform: u[%d] = %v, must be in (0,1)", i, v)
		}
	}
	for i, v := range u {
		gn.noise[i] = math.Log(v) - math.Log1p(-v)
	}
	return nil
}

// SetActing switches to the deterministic acting gate (zero noise).
func (gn *GateNode) SetActing() {
	for i := range gn.noise {
		gn.noise[i] = 0
	}
}

// Values returns a copy of the hard gate of the last run ([batch*agents],
// row-major by sample); all ones when gating is off.
func (gn *GateNode) Values() []float64 { return append([]float64(nil), gn.last...) }

// LogitValues returns a copy of the gate logits l of the last run (zeros
// when gating is off).
func (gn *GateNode) LogitValues() []float64 { return append([]float64(nil), gn.logits...) }

// Relaxed returns a copy of the relaxed gate z of the last run.
func (gn *GateNode) Relaxed() []float64 { return append([]float64(nil), gn.z...) }

// SetGates forces the hard gates of the next runs to g (batch*agents
// values, each 0 or 1), e.g. the gates sampled while acting, replayed in a
// score-function update; SetGates(nil) returns to the gates of the logits
// and noise.
func (gn *GateNode) SetGates(g []float64) error {
	if g == nil {
		gn.forced = nil
		return nil
	}
	if len(g) != len(gn.last) {
		return fmt.Errorf("comm: gate SetGates: got %d values, want batch*agents = %d", len(g), len(gn.last))
	}
	for i, v := range g {
		if v != 0 && v != 1 {
			return fmt.Errorf("comm: gate SetGates: g[%d] = %v, must be 0 or 1", i, v)
		}
	}
	gn.forced = append(gn.forced[:0], g...)
	return nil
}

// LogProb returns the node log P(g | x) [batch, agents] of the gates set
// with SetGates under the Bernoulli(sigmoid(l)) gate policy (0 for held
// gates); its gradient (g - sigmoid(l)) is the score-function estimator's.
// Running it without SetGates is an error.
func (gn *GateNode) LogProb() (*G.Node, error) { return gn.mapNode(gateLogProb) }

// OpenProb returns the node sigmoid(l) [batch, agents]: the probability that
// each gate opens (1 for held gates, with no gradient).
func (gn *GateNode) OpenProb() (*G.Node, error) { return gn.mapNode(gateOpenProb) }

// Entropy returns the node of each gate's Bernoulli entropy [batch, agents]
// (0 for held gates).
func (gn *GateNode) Entropy() (*G.Node, error) { return gn.mapNode(gateEntropy) }

func (gn *GateNode) mapNode(kind gateMapKind) (*G.Node, error) {
	if !gn.gate.cfg.Enabled || gn.h == nil {
		return nil, errors.New("comm: gate: score-function terms need an enabled gate")
	}
	n, err := G.ApplyOp(&gateMapOp{gn: gn, kind: kind}, gn.h, gn.w2, gn.b2)
	if err != nil {
		return nil, fmt.Errorf("comm: gate %v: %w", kind, err)
	}
	return n, nil
}

// Cost returns the communication cost node lambda * mean(g) (a scalar); for
// a score-function gate, lambda * mean(sigmoid(l)), the expected cost, whose
// gradient is exact.
func (gn *GateNode) Cost(lambda float64) (*G.Node, error) {
	open := gn.G
	if gn.gate.cfg.Score {
		var err error
		if open, err = gn.OpenProb(); err != nil {
			return nil, err
		}
	}
	m, err := G.Mean(open)
	if err != nil {
		return nil, fmt.Errorf("comm: gate cost: %w", err)
	}
	var c *G.Node
	if gn.gate.dtype == tensor.Float32 {
		c = G.NewConstant(float32(lambda))
	} else {
		c = G.NewConstant(lambda)
	}
	out, err := G.Mul(c, m)
	if err != nil {
		return nil, fmt.Errorf("comm: gate cost: %w", err)
	}
	return out, nil
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// gateForward: z = sigmoid((l+noise)/tau), hard = 1[z > 0.5].
func gateForward(z, hard, l, noise []float64, tau float64) {
	for i := range l {
		zi := sigmoid((l[i] + noise[i]) / tau)
		z[i] = zi
		if zi > 0.5 {
			hard[i] = 1
		} else {
			hard[i] = 0
		}
	}
}

// ActF32 is the plain float32 acting gate (no autodiff, for the fast
// inference path): out[r] = 1[l_r > 0] (= 1[sigmoid(l_r) > 0.5]) for each of
// the rows of x (rows x d, row-major). With gating off, or held, it writes
// ones. It reads the current parameter values (float32 or float64).
func (gt *Gate) ActF32(x []float32, rows int, out []float32) error {
	return gt.SampleF32(x, rows, nil, out, nil)
}

// SampleF32 is ActF32 with exploration: with rng non-nil it samples each
// gate from Bernoulli(sigmoid(l_r)), drawing u in (0,1) per row from rng
// and opening where l_r + log u - log(1-u) > 0 (the draws and the rule of
// GateNode.Resample, so both acting paths agree), and writes log P(g_r | x)
// to logp (if non-nil; 0 for constant gates). With rng nil it is ActF32.
func (gt *Gate) SampleF32(x []float32, rows int, rng *rand.Rand, out, logp []float32) error {
	if len(out) < rows || (logp != nil && len(logp) < rows) {
		return fmt.Errorf("comm: gate ActF32: out has %d entries, want %d", len(out), rows)
	}
	if !gt.cfg.Enabled || gt.held {
		for r := 0; r < rows; r++ {
			out[r] = 1
			if logp != nil {
				logp[r] = 0
			}
		}
		return nil
	}
	if len(x) < rows*gt.cfg.Dim {
		return fmt.Errorf("comm: gate ActF32: x has %d entries, want rows*d = %d", len(x), rows*gt.cfg.Dim)
	}
	for r := 0; r < rows; r++ {
		var l float64
		switch gt.dtype {
		case tensor.Float32:
			l = float64(rowLogit[float32](gt, x[r*gt.cfg.Dim:(r+1)*gt.cfg.Dim]))
		default:
			l = float64(rowLogit[float64](gt, x[r*gt.cfg.Dim:(r+1)*gt.cfg.Dim]))
		}
		open := l > 0
		if rng != nil {
			u := rng.Float64()
			for u == 0 {
				u = rng.Float64()
			}
			open = l+math.Log(u)-math.Log1p(-u) > 0
		}
		out[r] = 0
		if open {
			out[r] = 1
		}
		if logp != nil {
			logp[r] = float32(GateLogProb(l, open))
		}
	}
	return nil
}

// GateLogProb is log P(g | l) for a gate open with probability sigmoid(l).
func GateLogProb(l float64, open bool) float64 {
	if open {
		return -softplus(-l)
	}
	return -softplus(l)
}

func paramData[T float32 | float64](p *attention.Param) []T {
	if p == nil {
		return nil
	}
	return p.Value.Data().([]T)
}

// rowLogit computes one row's gate logit with parameters of element type T.
func rowLogit[T float32 | float64](gt *Gate, xr []float32) T {
	hN := gt.cfg.Hidden
	w1, b1 := paramData[T](gt.W1), paramData[T](gt.B1)
	w2, b2 := paramData[T](gt.W2), paramData[T](gt.B2)[0]
	l := b2
	if hN == 0 {
		for k, xv := range xr {
			l += T(xv) * w2[k]
		}
		return l
	}
	for j := 0; j < hN; j++ {
		h := b1[j]
		for k, xv := range xr {
			h += T(xv) * w1[k*hN+j]
		}
		if h > 0 {
			l += h * w2[j]
		}
	}
	return l
}
