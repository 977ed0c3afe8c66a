package marl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/envs"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// gaeCase builds a 1-env, 1-agent, 3-step buffer with rewards 1,2,3,
// values 0.5,1,1.5 and last value 2 (gamma = lambda = 0.5 keeps the hand
// arithmetic exact in binary).
func gaeCase(t *testing.T) *Buffer {
	b, err := NewBuffer(1, 3, 1, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	copy(b.Rewards, []float32{1, 2, 3})
	copy(b.Values, []float32{0.5, 1, 1.5})
	b.LastValues[0] = 2
	return b
}

func TestGAEHandComputed(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(b *Buffer)
		denorm    func(float64) float64
		adv, rets []float32
	}{
		// t=2: 3+0.5*2-1.5 = 2.5; t=1: 2+0.75-1 = 1.75, +0.25*2.5 = 2.375;
		// t=0: 1+0.5-0.5 = 1, +0.25*2.375 = 1.59375.
		{"no done", func(*Buffer) {}, nil, []float32{1.59375, 2.375, 2.5}, []float32{2.09375, 3.375, 4}},
		// Termination at t=1: no bootstrap, chain cut: A1 = 2-1 = 1, A0 = 1+0.25 = 1.25.
		{"terminated", func(b *Buffer) { b.Terminated[1] = true }, nil, []float32{1.25, 1, 2.5}, []float32{1.75, 2, 4}},
		// Truncation at t=1 bootstraps from the terminal value 4: A1 = 2+0.5*4-1 = 3, A0 = 1+0.75.
		{"truncated", func(b *Buffer) { b.Truncated[1] = true; b.BootValues[1] = 4 }, nil, []float32{1.75, 3, 2.5}, []float32{2.25, 4, 4}},
		// Normalised predictions are de-normalised first: halve them and double back.
		{"denormalised", func(b *Buffer) {
			for i := range b.Values {
				b.Values[i] /= 2
			}
			b.LastValues[0] /= 2
		}, func(x float64) float64 { return 2 * x }, []float32{1.59375, 2.375, 2.5}, []float32{2.09375, 3.375, 4}},
	}
	for _, c := range cases {
		b := gaeCase(t)
		c.setup(b)
		b.ComputeGAE(0.5, 0.5, c.denorm)
		for i := range c.adv {
			if b.Advantages[i] != c.adv[i] || b.Returns[i] != c.rets[i] {
				t.Errorf("%s: step %d: adv %v ret %v, want %v %v", c.name, i, b.Advantages[i], b.Returns[i], c.adv[i], c.rets[i])
			}
		}
	}
}

func TestGAEMultiAgentLayout(t *testing.T) {
	// Two envs, two agents: env 1 terminates at t=0, env 0 does not; agent
	// rewards differ, so a layout mix-up changes the numbers.
	b, _ := NewBuffer(2, 2, 1, []int{2, 3})
	for tt := 0; tt < 2; tt++ {
		for e := 0; e < 2; e++ {
			for i := 0; i < 2; i++ {
				b.Rewards[b.Index(tt, e, i)] = float32(1 + i + 10*e)
			}
		}
	}
	b.Terminated[0*2+1] = true
	b.ComputeGAE(1, 1, nil)
	// env 0, agent 1: rewards 2,2, zero values: A0 = 4, A1 = 2.
	if got := b.Advantages[b.Index(0, 0, 1)]; got != 4 {
		t.Errorf("env0 agent1 t0 = %v, want 4", got)
	}
	// env 1 agent 0 terminated at t=0: A0 = 11 only.
	if got := b.Advantages[b.Index(0, 1, 0)]; got != 11 {
		t.Errorf("env1 agent0 t0 = %v, want 11", got)
	}
	mask := make([]float32, 2*3)
	b.ActionMask(-1e9, mask)
	if mask[2] != -1e9 || mask[5] != 0 || mask[1] != 0 {
		t.Errorf("action mask %v", mask)
	}
}

func TestNormalizeAdvantages(t *testing.T) {
	a := []float32{1, 2, 3, 4}
	NormalizeAdvantages(a, a)
	var s, ss float64
	for _, x := range a {
		s += float64(x)
		ss += float64(x) * float64(x)
	}
	if math.Abs(s) > 1e-6 || math.Abs(ss/4-1) > 1e-4 {
		t.Errorf("normalised %v: mean %v, var %v", a, s/4, ss/4)
	}
}

func TestValueNorm(t *testing.T) {
	v := NewValueNorm()
	v.Update([]float32{1, 3})
	m, s2 := v.Stats()
	if !near(m, 2, 1e-9) || !near(s2, 1, 1e-6) {
		t.Fatalf("stats after one batch = %v, %v; want 2, 1 (debiasing removes the EMA's zero start)", m, s2)
	}
	if !near(v.Normalize(3), 1, 1e-6) || !near(v.Denormalize(-1), 1, 1e-6) {
		t.Errorf("normalize(3)=%v denormalize(-1)=%v", v.Normalize(3), v.Denormalize(-1))
	}
	// beta 0.5, batches {0} then {2}: m = 1, m2 = 2, d = 0.75 ->
	// mean 4/3, var 8/3 - 16/9 = 8/9.
	w := &ValueNorm{Beta: 0.5, Epsilon: 1e-5}
	w.Update([]float32{0})
	w.Update([]float32{2})
	m, s2 = w.Stats()
	if !near(m, 4.0/3, 1e-12) || !near(s2, 8.0/9, 1e-12) {
		t.Errorf("stats = %v, %v; want 4/3, 8/9", m, s2)
	}
	// The variance is floored at 1e-2.
	c := NewValueNorm()
	c.Update([]float32{5, 5})
	if _, s2 := c.Stats(); s2 != 1e-2 {
		t.Errorf("constant returns: var %v, want the 1e-2 floor", s2)
	}
}

func TestAdamHandStep(t *testing.T) {
	ps := attention.NewParams(tensor.Float32)
	p := ps.New("w", []int{2}, attention.Ones)
	a := NewAdam(ps.List(), 0.1, 1e-8)
	g := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0.5, -2}))
	if err := a.Update(ps.List(), []*tensor.Dense{g}); err != nil {
		t.Fatal(err)
	}
	// Step 1: m = 0.1 g, v = 0.001 g^2; bias-corrected m/sqrt(v) = sign(g),
	// so each weight moves by lr = 0.1 against its gradient (eps negligible).
	w := p.Value.Data().([]float32)
	if !near(float64(w[0]), 0.9, 1e-6) || !near(float64(w[1]), 1.1, 1e-6) {
		t.Fatalf("after step 1: %v, want [0.9 1.1]", w)
	}
	// Step 2 with gradient 0 on both: m = 0.09 g1, v = 0.000999 g1^2;
	// update = lr/(1-0.81) * 0.09 g1 / (sqrt(0.000999) |g1| / sqrt(1-0.999^2)).
	z := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, 0}))
	if err := a.Update(ps.List(), []*tensor.Dense{z}); err != nil {
		t.Fatal(err)
	}
	step := 0.1 / 0.19 * 0.09 / (math.Sqrt(0.000999) / math.Sqrt(1-0.999*0.999))
	if !near(float64(w[0]), 0.9-step, 1e-5) || !near(float64(w[1]), 1.1+step, 1e-5) {
		t.Errorf("after step 2: %v, want [%v %v]", w, 0.9-step, 1.1+step)
	}
	if a.Step != 2 {
		t.Errorf("step %d", a.Step)
	}
}

func TestClipGradNorm(t *testing.T) {
	g1 := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{3}))
	g2 := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{4}))
	n := ClipGradNorm([]*tensor.Dense{g1, g2}, 1)
	if n != 5 {
		t.Fatalf("norm %v, want 5", n)
	}
	if a, b := float64(g1.Data().([]float32)[0]), g2.Data().([]float64)[0]; !near(a, 0.6, 1e-5) || !near(b, 0.8, 1e-5) {
		t.Errorf("clipped to %v %v, want 0.6 0.8", a, b)
	}
	// Below the threshold nothing changes.
	if ClipGradNorm([]*tensor.Dense{g1, g2}, 10); g2.Data().([]float64)[0] != 0.8*5/(5+1e-6) {
		t.Errorf("unclipped gradient changed: %v", g2.Data())
	}
	g3 := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(math.NaN())}))
	if AllFinite([]*tensor.Dense{g1, g3}) || !math.IsNaN(ClipGradNorm([]*tensor.Dense{g3}, 1)) {
		t.Error("NaN gradient not detected")
	}
}

// vec returns a float64 vector input node with the given values.
func vec(g *G.ExprGraph, name string, x []float64) *G.Node {
	return G.NewVector(g, tensor.Float64, G.WithShape(len(x)), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(len(x)), tensor.WithBacking(x))))
}

func TestPPOLossValues(t *testing.T) {
	g := G.NewGraph()
	logp := vec(g, "logp", []float64{0, math.Log(2), math.Log(2), math.Log(0.5)})
	old := vec(g, "old", []float64{0, 0, 0, 0})
	adv := vec(g, "adv", []float64{1, 1, -1, -1})
	pl, _, err := policyLoss(logp, old, adv, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	values := vec(g, "v", []float64{0, 5, 20})
	oldV := vec(g, "ov", []float64{0, 0, 0})
	targ := vec(g, "t", []float64{1, 5, 30})
	vl, err := valueLoss(values, oldV, targ, 0.2, 10)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	// ratios 1, 2, 2, 0.5; clipped 1, 1.2, 1.2, 0.8; min(rA, cA) = 1, 1.2, -2, -0.8.
	if got := pl.Value().Data().(float64); !near(got, -(1+1.2-2-0.8)/4, 1e-12) {
		t.Errorf("policy loss %v, want %v", got, -(1+1.2-2-0.8)/4)
	}
	// clipped predictions 0, 0.2, 0.2; errors (1,1), (0,4.8), (10,29.8);
	// Huber: 0.5, max(0, 11.52), max(50, 10*(29.8-5)) -> mean (0.5+11.52+248)/3.
	if got := vl.Value().Data().(float64); !near(got, (0.5+11.52+248)/3, 1e-12) {
		t.Errorf("value loss %v, want %v", got, (0.5+11.52+248)/3)
	}
}

// TestPPOLossGradient checks the analytic gradient of the combined loss with
// respect to its inputs against central differences (away from the kinks).
func TestPPOLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	R, A := 6, 4
	logits := make([]float64, R*A)
	for i := range logits {
		logits[i] = rng.NormFloat64()
	}
	onehot := make([]float64, R*A)
	mask := make([]float64, R*A)
	oldLogp := make([]float64, R)
	advs := make([]float64, R)
	vals := make([]float64, R)
	oldV := make([]float64, R)
	targ := make([]float64, R)
	for r := 0; r < R; r++ {
		onehot[r*A+r%3] = 1
		mask[r*A+3] = -1e9 * float64(r%2) // odd rows have 3 actions
		oldLogp[r] = -1.2 + 0.3*rng.NormFloat64()
		advs[r] = rng.NormFloat64()
		vals[r] = rng.NormFloat64()
		oldV[r] = vals[r] + 0.5*rng.NormFloat64()
		targ[r] = 15 * rng.NormFloat64()
	}
	loss := func(lg, v []float64) (float64, []float64, []float64) {
		g := G.NewGraph()
		L := G.NewMatrix(g, tensor.Float64, G.WithShape(R, A), G.WithName("logits"), G.WithValue(tensor.New(tensor.WithShape(R, A), tensor.WithBacking(lg))))
		M := G.NewMatrix(g, tensor.Float64, G.WithShape(R, A), G.WithName("mask"), G.WithValue(tensor.New(tensor.WithShape(R, A), tensor.WithBacking(mask))))
		O := G.NewMatrix(g, tensor.Float64, G.WithShape(R, A), G.WithName("onehot"), G.WithValue(tensor.New(tensor.WithShape(R, A), tensor.WithBacking(onehot))))
		V := vec(g, "v", v)
		lp, err := maskedLogSoftmax(L, M)
		if err != nil {
			t.Fatal(err)
		}
		ch, ent, err := ChosenAndEntropy(lp, O)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := BuildPPOLoss(ch, vec(g, "old", oldLogp), vec(g, "adv", advs), ent, V, vec(g, "ov", oldV), vec(g, "t", targ), defaultPPOCoefs())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(pl.Total, L, V); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g, G.BindDualValues(L, V))
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		gl, _ := L.Grad()
		gv, _ := V.Grad()
		return pl.Total.Value().Data().(float64), append([]float64(nil), gl.Data().([]float64)...), append([]float64(nil), gv.Data().([]float64)...)
	}
	_, gl, gv := loss(logits, vals)
	const h = 1e-6
	check := func(name string, x []float64, g []float64) {
		for i := range x {
			if name == "logits" && i%A == 3 && (i/A)%2 == 1 {
				continue // masked action
			}
			x0 := x[i]
			x[i] = x0 + h
			lp, _, _ := loss(logits, vals)
			x[i] = x0 - h
			lm, _, _ := loss(logits, vals)
			x[i] = x0
			num := (lp - lm) / (2 * h)
			if math.Abs(num-g[i]) > 1e-6+1e-4*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %v, numeric %v", name, i, g[i], num)
			}
		}
	}
	check("logits", logits, gl)
	check("values", vals, gv)
}

func TestCheckpointRoundTripAndFile(t *testing.T) {
	ps := attention.NewParams(tensor.Float32)
	rng := rand.New(rand.NewPCG(3, 4))
	ps.New("a", []int{2, 3}, attention.Uniform(rng, 1))
	ps.New("b", []int{3}, attention.Zeros)
	opt := NewAdam(ps.List(), 1e-3, 1e-5)
	g := []*tensor.Dense{
		tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})),
		tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 1, 1})),
	}
	if err := opt.Update(ps.List(), g); err != nil {
		t.Fatal(err)
	}
	src := rand.NewPCG(7, 8)
	src.Uint64()
	st, _ := src.MarshalBinary()
	vn := NewValueNorm()
	vn.Update([]float32{1, 2})
	c := &Checkpoint{Algorithm: "test", Iteration: 2, Params: CaptureParams(ps.List()), Optimisers: []AdamState{opt.State("model")}, ValueNorm: *vn, RNG: []NamedBlob{{Name: "env", Data: st}}}
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := DecodeCheckpoint(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ps2 := attention.NewParams(tensor.Float32)
	ps2.New("a", []int{2, 3}, attention.Zeros)
	ps2.New("b", []int{3}, attention.Zeros)
	if err := RestoreParams(ps2.List(), d.Params); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps.List() {
		a, b := p.Value.Data().([]float32), ps2.List()[i].Value.Data().([]float32)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("param %s differs after round trip", p.Name)
			}
		}
	}
	opt2 := NewAdam(ps2.List(), 0, 0)
	if err := opt2.SetState(d.Optimisers[0]); err != nil || opt2.Step != 1 || opt2.V[0][5] != opt.V[0][5] || opt2.LR != 1e-3 {
		t.Errorf("optimiser state not restored: %v %+v", err, opt2)
	}
	src2 := rand.NewPCG(0, 0)
	if err := src2.UnmarshalBinary(d.RNG[0].Data); err != nil || src2.Uint64() != src.Uint64() {
		t.Error("random source state not restored")
	}
	if d.ValueNorm != *vn || d.Iteration != 2 {
		t.Error("value norm or iteration not restored")
	}
	// A shape mismatch is an error, not a panic.
	ps3 := attention.NewParams(tensor.Float32)
	ps3.New("a", []int{3, 2}, attention.Zeros)
	ps3.New("b", []int{3}, attention.Zeros)
	if err := RestoreParams(ps3.List(), d.Params); err == nil {
		t.Error("shape mismatch accepted")
	}
	if _, err := DecodeCheckpoint(bytes.NewReader([]byte("junk"))); err == nil {
		t.Error("junk decoded")
	}

	path := filepath.Join(t.TempDir(), "iter-000002.ckpt")
	if err := WriteCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, buf.Bytes()) {
		t.Error("the file differs from Encode's bytes")
	}
	e, err := ReadCheckpoint(path)
	if err != nil || !reflect.DeepEqual(e, d) {
		t.Errorf("read back: %v", err)
	}
}

// TestCheckpointDamageIsNamed: every kind of damage to a checkpoint file is
// an error that names the file, says what is wrong and what to do, and
// wraps ErrBadCheckpoint; nothing damaged ever decodes.
func TestCheckpointDamageIsNamed(t *testing.T) {
	c := &Checkpoint{Algorithm: "test", Iteration: 7, EnvSteps: 70, Scalars: []float64{1.5, math.NaN()},
		Params:      []TensorState{{Name: "w", Shape: []int{2}, F32: []float32{0.25, -3}}},
		Evaluations: []envs.CountedRecord{{Config: []int{1, 0}, Metrics: []float64{3, 4}}},
		Run:         RunState{ConfigSHA256: "abc", WallSeconds: 1.25}}
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x10; return b }
	v3 := bytes.Clone(good)
	binary.LittleEndian.PutUint32(v3[8:], 3)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"truncated header", good[:30], "truncated"},
		{"truncated payload", good[:len(good)-5], "truncated"},
		{"bit flip in the payload", flip(len(good) - 3), "checksum mismatch"},
		{"bit flip in the checksum", flip(30), "checksum mismatch"},
		{"bit flip in the length", flip(19), "header declares"},
		{"trailing bytes", append(bytes.Clone(good), 0), "bytes after"},
		{"unknown version", v3, "format version 3; this build reads version 2"},
		{"version 1", []byte("commgraph-checkpoint v1\n{\"iteration\":3}\n" + strings.Repeat("x", 64)), "format version 1"},
		{"foreign", []byte("PK\x03\x04 a zip file, not ours at all, long enough for a header"), "not a commgraph checkpoint"},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".ckpt")
		os.WriteFile(path, tc.data, 0o644)
		_, err := ReadCheckpoint(path)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "delete this file") {
			t.Errorf("%s: error %q: want ErrBadCheckpoint naming %s, %q and what to do", tc.name, msg, path, tc.want)
		}
	}
	// Every truncation point and every single-bit flip is refused.
	for n := range len(good) {
		if _, err := DecodeCheckpoint(bytes.NewReader(good[:n])); err == nil {
			t.Fatalf("checkpoint truncated to %d of %d bytes decoded", n, len(good))
		}
	}
	for i := range len(good) {
		for bit := range 8 {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			if _, err := DecodeCheckpoint(bytes.NewReader(b)); err == nil {
				t.Fatalf("bit %d of byte %d flipped: decoded", bit, i)
			}
		}
	}
	d, err := DecodeCheckpoint(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if d.Iteration != 7 || !math.IsNaN(d.Scalars[1]) || d.Run != c.Run || !reflect.DeepEqual(d.Evaluations, c.Evaluations) || !reflect.DeepEqual(d.Params, c.Params) {
		t.Errorf("round trip: %+v", d)
	}
}
