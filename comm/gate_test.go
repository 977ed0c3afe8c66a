package comm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type gateHarness struct {
	gt    *Gate
	gn    *GateNode
	x     *tensor.Dense
	vm    G.VM
	loss  *G.Node
	grads G.Nodes // w1, b1 (unless linear), w2, b2, x
}

// newGateHarness builds loss = sum(V ⊙ g) + cost for a float64 gate.
func newGateHarness(t *testing.T, cfg GateConfig, batch, agents int, v []float64, lambda float64) *gateHarness {
	t.Helper()
	ps := attention.NewParams(tensor.Float64)
	rng := rand.New(rand.NewPCG(11, 12))
	gt, err := NewGate(ps, "gate", cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	eg := G.NewGraph()
	b := attention.NewBinder(eg)
	rows := batch * agents
	xt := tensor.New(tensor.WithShape(rows, cfg.Dim), tensor.WithBacking(randVec(rng, rows*cfg.Dim)))
	x := G.NewMatrix(eg, tensor.Float64, G.WithShape(rows, cfg.Dim), G.WithName("x"), G.WithValue(xt))
	gn, err := gt.Bind(b, x, batch, agents)
	if err != nil {
		t.Fatal(err)
	}
	vt := tensor.New(tensor.WithShape(batch, agents), tensor.WithBacking(append([]float64(nil), v...)))
	vn := G.NewMatrix(eg, tensor.Float64, G.WithShape(batch, agents), G.WithName("V"), G.WithValue(vt))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(gn.G, vn))))
	if lambda != 0 {
		c, err := gn.Cost(lambda)
		if err != nil {
			t.Fatal(err)
		}
		loss = G.Must(G.Add(loss, c))
	}
	h := &gateHarness{gt: gt, gn: gn, x: xt, loss: loss}
	if cfg.Enabled {
		var wrt G.Nodes
		if gt.W1 != nil {
			wrt = append(wrt, b.Node(gt.W1), b.Node(gt.B1))
		}
		wrt = append(wrt, b.Node(gt.W2), b.Node(gt.B2), x)
		if h.grads, err = G.Grad(loss, wrt...); err != nil {
			t.Fatal(err)
		}
	}
	h.vm = G.NewTapeMachine(eg)
	t.Cleanup(func() { h.vm.Close() })
	return h
}

func (h *gateHarness) run(t *testing.T) float64 {
	t.Helper()
	if err := h.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	defer h.vm.Reset()
	return h.loss.Value().Data().(float64)
}

// plainGateLogits computes l = relu(x W1 + b1) W2 + b2 in float64 (l = x W2
// + b2 when hN = 0).
func plainGateLogits(x, w1, b1, w2 []float64, b2 float64, rows, d, hN int) []float64 {
	l := make([]float64, rows)
	for r := 0; r < rows; r++ {
		s := b2
		if hN == 0 {
			for k := 0; k < d; k++ {
				s += x[r*d+k] * w2[k]
			}
		}
		for j := 0; j < hN; j++ {
			a := b1[j]
			for k := 0; k < d; k++ {
				a += x[r*d+k] * w1[k*hN+j]
			}
			s += math.Max(a, 0) * w2[j]
		}
		l[r] = s
	}
	return l
}

// TestGradGate: with fixed uniforms, the straight-through gradient of
// sum(V ⊙ g) w.r.t. every gate parameter and the input equals the
// central-difference gradient of sum(V ⊙ z), z = sigmoid((l + log u -
// log(1-u))/tau).
func TestGradGate(t *testing.T) {
	for _, hN := range []int{5, 0} {
		testGradGate(t, hN)
	}
}

func testGradGate(t *testing.T, hN int) {
	const batch, agents, d = 3, 2, 4
	cfg := GateConfig{Enabled: true, Dim: d, Hidden: hN, Tau: 0.6, InitBias: 0.3}
	rng := rand.New(rand.NewPCG(21, 22))
	v := randVec(rng, batch*agents)
	h := newGateHarness(t, cfg, batch, agents, v, 0)
	u := make([]float64, batch*agents)
	for i := range u {
		u[i] = 0.05 + 0.9*rng.Float64()
	}
	if err := h.gn.SetUniform(u); err != nil {
		t.Fatal(err)
	}
	loss := h.run(t)

	var w1, b1 []float64
	if hN > 0 {
		w1 = h.gt.W1.Value.Data().([]float64)
		b1 = h.gt.B1.Value.Data().([]float64)
	}
	w2 := h.gt.W2.Value.Data().([]float64)
	b2 := h.gt.B2.Value.Data().([]float64)
	x := h.x.Data().([]float64)
	rows := batch * agents
	relaxed := func(x, w1, b1, w2, b2 []float64) (soft, hard float64) {
		l := plainGateLogits(x, w1, b1, w2, b2[0], rows, d, hN)
		for r := range l {
			z := sigmoid((l[r] + math.Log(u[r]) - math.Log1p(-u[r])) / cfg.Tau)
			soft += v[r] * z
			if z > 0.5 {
				hard += v[r]
			}
		}
		return soft, hard
	}
	_, hard := relaxed(x, w1, b1, w2, b2)
	if math.Abs(loss-hard) > 1e-12 {
		t.Fatalf("hidden %d: forward loss %g, want hard-gate loss %g", hN, loss, hard)
	}
	for i, g := range h.gn.Values() {
		if g != 0 && g != 1 {
			t.Fatalf("gate[%d] = %g, not 0/1", i, g)
		}
	}
	params := [][]float64{w1, b1, w2, b2, x}
	names := []string{"w1", "b1", "w2", "b2", "x"}
	gi := 0
	for p, vals := range params {
		if vals == nil {
			continue
		}
		num := centralDiff(func(nv []float64) float64 {
			args := [][]float64{w1, b1, w2, b2, x}
			args[p] = nv
			s, _ := relaxed(args[4], args[0], args[1], args[2], args[3])
			return s
		}, vals, 1e-6)
		got := h.grads[gi].Value().Data().([]float64)
		gi++
		assertClose(t, fmt.Sprintf("hidden %d: dL/d%s", hN, names[p]), got, num, 1e-6)
	}
	if gi != len(h.grads) {
		t.Fatalf("checked %d of %d gradients", gi, len(h.grads))
	}
}

// TestGateActing: acting gives 1[l > 0] in the graph and in ActF32, and the
// cost node is lambda*mean(g).
func TestGateActing(t *testing.T) {
	const batch, agents, d = 4, 3, 6
	cfg := GateConfig{Enabled: true, Dim: d, Hidden: 8, Tau: 1, InitBias: 0}
	v := make([]float64, batch*agents)
	h := newGateHarness(t, cfg, batch, agents, v, 0.25)
	loss := h.run(t) // new binding: acting mode
	x := h.x.Data().([]float64)
	l := plainGateLogits(x, h.gt.W1.Value.Data().([]float64), h.gt.B1.Value.Data().([]float64),
		h.gt.W2.Value.Data().([]float64), 0, batch*agents, d, 8)
	got := h.gn.Values()
	on := 0
	for r := range l {
		want := 0.0
		if l[r] > 0 {
			want = 1
			on++
		}
		if got[r] != want {
			t.Fatalf("acting gate[%d] = %g, want %g (l = %g)", r, got[r], want, l[r])
		}
	}
	if on == 0 || on == len(l) {
		t.Fatalf("degenerate test: %d of %d gates on", on, len(l))
	}
	if want := 0.25 * float64(on) / float64(len(l)); math.Abs(loss-want) > 1e-12 {
		t.Fatalf("cost = %g, want lambda*mean(g) = %g", loss, want)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	out := make([]float32, len(l))
	if err := h.gt.ActF32(x32, len(l), out); err != nil {
		t.Fatal(err)
	}
	for r := range out {
		if float64(out[r]) != got[r] {
			t.Fatalf("ActF32[%d] = %g, graph gate %g", r, out[r], got[r])
		}
	}
}

// TestGateOff: gating off is a gate of ones, in the graph and in ActF32.
func TestGateOff(t *testing.T) {
	ps := attention.NewParams(tensor.Float32)
	gt, err := NewGate(ps, "gate", GateConfig{Enabled: false}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Count() != 0 {
		t.Fatalf("disabled gate registered %d parameters", ps.Count())
	}
	eg := G.NewGraph()
	gn, err := gt.Bind(attention.NewBinder(eg), nil, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vals := gn.G.Value().Data().([]float32)
	if len(vals) != 6 {
		t.Fatalf("gate has %d values, want 6", len(vals))
	}
	for i, v := range vals {
		if v != 1 {
			t.Fatalf("gate off: g[%d] = %g, want 1", i, v)
		}
	}
	out := []float32{0, 0, 0}
	if err := gt.ActF32(nil, 3, out); err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if v != 1 {
			t.Fatalf("gate off ActF32[%d] = %g", i, v)
		}
	}
}

// TestGateDeterministic: same seed, same sampled gates; another seed differs.
func TestGateDeterministic(t *testing.T) {
	const batch, agents, d = 8, 3, 4
	cfg := GateConfig{Enabled: true, Dim: d, Hidden: 4, Tau: 1, InitBias: 0}
	v := make([]float64, batch*agents)
	sample := func(seed uint64) []float64 {
		h := newGateHarness(t, cfg, batch, agents, v, 0)
		h.gn.Resample(rand.New(rand.NewPCG(seed, 99)))
		h.run(t)
		return h.gn.Relaxed()
	}
	a, b, c := sample(1), sample(1), sample(2)
	assertClose(t, "same seed", a, b, 0)
	same := true
	for i := range a {
		if a[i] != c[i] {
			same = false
		}
	}
	if same {
		t.Fatal("different seeds gave identical gates")
	}
}

// TestGateActF32Linear: the linear gate (Hidden = 0) acts like its graph, in
// float32 parameters.
func TestGateActF32Linear(t *testing.T) {
	const batch, agents, d = 5, 4, 8
	ps := attention.NewParams(tensor.Float32)
	gt, err := NewGate(ps, "gate", GateConfig{Enabled: true, Dim: d, Hidden: 0, Tau: 1}, rand.New(rand.NewPCG(1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if gt.W1 != nil || ps.Count() != d+1 {
		t.Fatalf("linear gate has %d parameters, want %d", ps.Count(), d+1)
	}
	rows := batch * agents
	x32 := toF32(randVec(rand.New(rand.NewPCG(2, 3)), rows*d))
	eg := G.NewGraph()
	xt := tensor.New(tensor.WithShape(rows, d), tensor.WithBacking(append([]float32(nil), x32...)))
	x := G.NewMatrix(eg, tensor.Float32, G.WithShape(rows, d), G.WithName("x"), G.WithValue(xt))
	gn, err := gt.Bind(attention.NewBinder(eg), x, batch, agents)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, rows)
	if err := gt.ActF32(x32, rows, out); err != nil {
		t.Fatal(err)
	}
	on := 0
	for r, g := range gn.Values() {
		if float64(out[r]) != g {
			t.Fatalf("row %d: ActF32 %g, graph %g", r, out[r], g)
		}
		on += int(g)
	}
	if on == 0 || on == rows {
		t.Fatalf("degenerate: %d of %d on", on, rows)
	}
}

// TestGradGateScore: a score-function gate replays the gates set with
// SetGates, passes no gradient through them, and the gradients of its
// log-probability, open probability and entropy terms equal the central
// differences of the plain formulas; held gates are constants.
func TestGradGateScore(t *testing.T) {
	for _, hN := range []int{5, 0} {
		testGradGateScore(t, hN)
	}
}

func testGradGateScore(t *testing.T, hN int) {
	const batch, agents, d = 3, 2, 4
	rows := batch * agents
	cfg := GateConfig{Enabled: true, Dim: d, Hidden: hN, Tau: 0.7, InitBias: 0.2, Score: true}
	ps := attention.NewParams(tensor.Float64)
	rng := rand.New(rand.NewPCG(31, 32))
	gt, err := NewGate(ps, "gate", cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	eg := G.NewGraph()
	b := attention.NewBinder(eg)
	xt := tensor.New(tensor.WithShape(rows, d), tensor.WithBacking(randVec(rng, rows*d)))
	x := G.NewMatrix(eg, tensor.Float64, G.WithShape(rows, d), G.WithName("x"), G.WithValue(xt))
	gn, err := gt.Bind(b, x, batch, agents)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := gn.LogProb()
	if err != nil {
		t.Fatal(err)
	}
	op, err := gn.OpenProb()
	if err != nil {
		t.Fatal(err)
	}
	en, err := gn.Entropy()
	if err != nil {
		t.Fatal(err)
	}
	vs := make([][]float64, 4)
	loss := G.NewConstant(0.0)
	for k, n := range []*G.Node{lp, op, en, gn.G} {
		vs[k] = randVec(rng, rows)
		vt := tensor.New(tensor.WithShape(batch, agents), tensor.WithBacking(append([]float64(nil), vs[k]...)))
		vn := G.NewMatrix(eg, tensor.Float64, G.WithShape(batch, agents), G.WithName(fmt.Sprintf("V%d", k)), G.WithValue(vt))
		loss = G.Must(G.Add(loss, G.Must(G.Sum(G.Must(G.HadamardProd(n, vn))))))
	}
	var wrt G.Nodes
	if gt.W1 != nil {
		wrt = append(wrt, b.Node(gt.W1), b.Node(gt.B1))
	}
	wrt = append(wrt, b.Node(gt.W2), b.Node(gt.B2), x)
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	if err := vm.RunAll(); err == nil {
		t.Fatal("log-probability ran without SetGates")
	}
	vm.Reset()
	forced := []float64{1, 0, 0, 1, 1, 0}
	if err := gn.SetGates(forced); err != nil {
		t.Fatal(err)
	}
	if err := gn.SetGates([]float64{1, 0.5, 0, 1, 1, 0}); err == nil {
		t.Fatal("SetGates accepted a gate of 0.5")
	}
	gn.Resample(rng) // the forced gates win over any noise
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := loss.Value().Data().(float64)
	vm.Reset()
	for i, g := range gn.Values() {
		if g != forced[i] {
			t.Fatalf("gate[%d] = %g, want the set %g", i, g, forced[i])
		}
	}
	var w1, b1 []float64
	if hN > 0 {
		w1 = gt.W1.Value.Data().([]float64)
		b1 = gt.B1.Value.Data().([]float64)
	}
	w2 := gt.W2.Value.Data().([]float64)
	b2 := gt.B2.Value.Data().([]float64)
	xv := xt.Data().([]float64)
	plain := func(x, w1, b1, w2, b2 []float64) float64 {
		l := plainGateLogits(x, w1, b1, w2, b2[0], rows, d, hN)
		var s float64
		for r, lr := range l {
			p := 1 / (1 + math.Exp(-lr))
			logp := math.Log(1 - p)
			if forced[r] == 1 {
				logp = math.Log(p)
			}
			ent := -p*math.Log(p) - (1-p)*math.Log(1-p)
			s += vs[0][r]*logp + vs[1][r]*p + vs[2][r]*ent + vs[3][r]*forced[r]
		}
		return s
	}
	if want := plain(xv, w1, b1, w2, b2); math.Abs(got-want) > 1e-12 {
		t.Fatalf("hidden %d: loss %g, want %g", hN, got, want)
	}
	params := [][]float64{w1, b1, w2, b2, xv}
	names := []string{"w1", "b1", "w2", "b2", "x"}
	gi := 0
	for p, vals := range params {
		if vals == nil {
			continue
		}
		num := centralDiff(func(nv []float64) float64 {
			args := [][]float64{w1, b1, w2, b2, xv}
			args[p] = nv
			return plain(args[4], args[0], args[1], args[2], args[3])
		}, vals, 1e-6)
		assertClose(t, fmt.Sprintf("score hidden %d: dL/d%s", hN, names[p]), grads[gi].Value().Data().([]float64), num, 1e-6)
		gi++
	}

	// Held: g = 1, log-probability and entropy 0, open probability 1, and
	// no gradient at all.
	gt.Hold(true)
	defer gt.Hold(false)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	defer vm.Reset()
	var want float64
	for r := range forced {
		want += vs[1][r] + vs[3][r]
	}
	if got := loss.Value().Data().(float64); math.Abs(got-want) > 1e-12 {
		t.Fatalf("held: loss %g, want %g", got, want)
	}
	for i, gr := range grads {
		for j, v := range gr.Value().Data().([]float64) {
			if v != 0 {
				t.Fatalf("held: gradient %d[%d] = %g, want 0", i, j, v)
			}
		}
	}
}
