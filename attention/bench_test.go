package attention

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var benchSizes = []struct {
	name         string
	B, N, obs, A int
	actB         int
}{
	{"predprey", 4000, 3, 261, 5, 20},
	{"dram", 1024, 10, 16, 8, 32},
	{"agents20", 2048, 20, 32, 4, 32},
}

// benchModel is a stand-in for the CommFormer model built from this
// package's blocks: observation embedding LN -> Linear -> GELU -> LN, one
// encoder block, action embedding, one decoder block, d = 64, 1 head.
type benchModel struct {
	ps             *Params
	ln0, ln1       *LayerNorm
	obsL, actL     *Linear
	emb            *EdgeEmbedding
	enc            *EncoderBlock
	dec            *DecoderBlock
	obsDim, actDim int
}

func newBenchModel(obs, act int) *benchModel {
	rng := rand.New(rand.NewPCG(11, 1))
	ps := NewParams(tensor.Float32)
	const d = 64
	return &benchModel{
		ps: ps, obsDim: obs, actDim: act + 1,
		ln0: NewLayerNorm(ps, "ln0", obs), obsL: NewLinear(ps, "obs", obs, d, Uniform(rng, 1)),
		ln1: NewLayerNorm(ps, "ln1", d), actL: NewLinear(ps, "act", act+1, d, Uniform(rng, 1)),
		emb: NewEdgeEmbedding(ps, "edge", d, rng),
		enc: NewEncoderBlock(ps, "enc", d, 1, rng), dec: NewDecoderBlock(ps, "dec", d, 1, rng),
	}
}

// BenchmarkTrainStep measures one forward + backward pass of the blocks
// over the full PPO batch (the GEMM-heavy part of a PPO epoch).
func BenchmarkTrainStep(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			m := newBenchModel(s.obs, s.A)
			rows := s.B * s.N
			g := G.NewGraph()
			bd := NewBinder(g)
			obs := G.NewMatrix(g, tensor.Float32, G.WithShape(rows, s.obs), G.WithName("obs"), G.WithInit(G.Gaussian(0, 1)))
			act := G.NewMatrix(g, tensor.Float32, G.WithShape(rows, m.actDim), G.WithName("act"), G.WithInit(G.Gaussian(0, 1)))
			a := G.NewMatrix(g, tensor.Float32, G.WithShape(s.N, s.N), G.WithName("A"), G.WithInit(G.Ones()))
			x := G.Must(m.ln0.Forward(bd, obs))
			x = G.Must(m.obsL.Forward(bd, x))
			x = G.Must(Activate(GELU, x))
			x = G.Must(m.ln1.Forward(bd, x))
			cg := CommGraph{N: s.N, A: a, Edge: G.Must(m.emb.Forward(bd, a))}
			rep := G.Must(m.enc.Forward(bd, x, cg))
			ae := G.Must(m.actL.Forward(bd, act))
			y := G.Must(m.dec.Forward(bd, ae, ae, rep, cg))
			cost := G.Must(G.Mean(G.Must(G.Add(y, rep))))
			if _, err := bd.Backward(cost, a); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				vm.Reset()
			}
			reportCPU(b, c0)
		})
	}
}

// BenchmarkInferAct measures the inference path of one act call: encoder
// over all agents, then N incremental decoder steps.
func BenchmarkInferAct(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			m := newBenchModel(s.obs, s.A)
			const d = 64
			rows := s.actB * s.N
			rng := rand.New(rand.NewPCG(12, 1))
			obs := make([]float32, rows*s.obs)
			for i := range obs {
				obs[i] = float32(rng.NormFloat64())
			}
			a := make([]float32, s.N*s.N)
			for i := range a {
				a[i] = 1
			}
			tok := make([]float32, s.actB*m.actDim)
			x := make([]float32, rows*d)
			xi := make([]float32, s.actB*d)
			oi := make([]float32, s.actB*d)
			var st *DecoderState
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				h := make([]float32, len(obs))
				m.ln0.Infer(h, obs)
				m.obsL.Infer(x, h, rows)
				ActivateInto(GELU, x, x)
				m.ln1.Infer(x, x)
				g := InferGraph{N: s.N, A: a, Edge: m.emb.Infer(a)}
				rep := m.enc.Infer(x, s.actB, g, m.enc.Attn.Relations(g.Edge))
				st = m.dec.Start(st, rep, s.actB, g)
				for i := 0; i < s.N; i++ {
					m.actL.Infer(xi, tok, s.actB)
					st.Step(i, xi, oi)
				}
			}
			reportCPU(b, c0)
		})
	}
}

// cpuTime returns the process's user+system CPU time. On the shared 2-core
// development machines wall-clock ns/op swings with other tenants' load;
// with GOMAXPROCS=1 the CPU time per op is the steadier figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkGELU32 compares the vectorised float32 GELU (value and
// derivative) with the scalar formula, on one predator-prey activation
// (12,000 x 64).
func BenchmarkGELU32(b *testing.B) {
	n := 12000 * 64
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%2000)/500 - 2
	}
	y, dy := make([]float32, n), make([]float32, n)
	b.Run("vek", func(b *testing.B) {
		for b.Loop() {
			gelu32(y, dy, x)
		}
	})
	b.Run("scalar", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				c, p := geluCDF(v)
				y[i] = float32(float64(v) * c)
				dy[i] = float32(c + float64(v)*p)
			}
		}
	})
}

// BenchmarkGELU32Random: the vectorised float32 GELU on pre-activations of
// random sign and size (normal, sd 2), as a network's are; BenchmarkGELU32's
// sorted ramp lets a branch on the sign be predicted.
func BenchmarkGELU32Random(b *testing.B) { benchGELU32Random(b, gelu32) }

// benchGELU32Random times f on 768k seeded normal (sd 2) pre-activations.
func benchGELU32Random(b *testing.B, f func(y, dy, x []float32)) {
	n := 12000 * 64
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(2 * r.NormFloat64())
	}
	y, dy := make([]float32, n), make([]float32, n)
	c0 := cpuTime()
	for b.Loop() {
		f(y, dy, x)
	}
	reportCPU(b, c0)
}

// BenchmarkAttnCore measures one forward and one backward pass of the
// float32 attention core at the N = 40 update's shapes (256 samples, 40
// agents, d = 32, one head, relations, dense pass with the mask gradient),
// on 1 and 2 workers (the same bits).
func BenchmarkAttnCore(b *testing.B) {
	const B, N, H, Dh = 256, 40, 1, 32
	rng := rand.New(rand.NewPCG(3, 3))
	a := make([]float32, N*N)
	for i := range a {
		a[i] = float32(rng.Float64())
	}
	s := attnShape{B: B, N: N, H: H, Dh: Dh}
	sd := denseSenders(N)
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			pass := corePass(rng, s, sd, a, w, true)
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				pass()
			}
			reportCPU(b, c0)
		})
	}
}

// corePass returns one forward (and, with backward, backward) pass of the
// float32 attention core with relations on random inputs of shape s.
func corePass(rng *rand.Rand, s attnShape, sd *Senders, a []float32, workers int, backward bool) func() {
	B, N, D := s.B, s.N, s.H*s.Dh
	rv := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	q, k, v, gout := rv(B*N*D), rv(B*N*D), rv(B*N*D), rv(B*N*D)
	ra, rb := rv(N*N*D), rv(N*N*D)
	ker := &attnKernel{workers: workers}
	var tk attnTask[float32]
	out := make([]float32, B*N*D)
	probs := make([]float64, B*N*s.H*N)
	gr := attnGrads[float32]{dq: make([]float32, B*N*D), dk: make([]float32, B*N*D), dv: make([]float32, B*N*D),
		da: make([]float32, N*N), dra: make([]float32, N*N*D), drb: make([]float32, N*N*D)}
	return func() {
		forwardPar(ker, &tk, s, sd, out, q, k, v, ra, rb, a, nil, probs)
		if backward {
			clear(gr.da)
			clear(gr.dra)
			clear(gr.drb)
			backwardPar(ker, &tk, s, sd, gr, gout, q, k, v, ra, rb, a, nil, probs)
		}
	}
}

// BenchmarkCommCost measures the communication part alone, the attention
// core with its relations (scores, softmax, weighted sum of messages), at
// N = 10..80 agents, d = 64, one head: "update" = forward and backward over
// 256 samples, "act" = forward over 16 environments. k3 visits each
// receiver's 3 senders of a random top-3 graph and itself; dense is the same
// graph on the dense masked pass (every pair scored). The rest of an update
// or acting call (the per-agent layers, LayerNorms, GELUs, heads) does not
// depend on the graph; marl/commformer's BenchmarkGraphCost* measure the
// whole calls. cpu-ns/agent is the CPU time per op divided by N.
func BenchmarkCommCost(b *testing.B) {
	const D = 64
	for _, n := range []int{10, 20, 40, 80} {
		rng := rand.New(rand.NewPCG(uint64(n), 5))
		a := make([]float32, n*n)
		for i := 0; i < n; i++ {
			for _, j := range rng.Perm(n - 1)[:3] {
				if j >= i {
					j++
				}
				a[i*n+j] = 1
			}
		}
		k3 := &Senders{}
		k3.Set(a, n)
		for _, op := range []string{"update", "act"} {
			B := 256
			if op == "act" {
				B = 16
			}
			for _, variant := range []string{"k3", "dense"} {
				sd := k3
				if variant == "dense" {
					sd = denseSenders(n)
				}
				b.Run(fmt.Sprintf("%s/N=%d/%s", op, n, variant), func(b *testing.B) {
					benchCommCost(b, rng, attnShape{B: B, N: n, H: 1, Dh: D}, sd, a, op == "update")
				})
			}
		}
	}
}

func benchCommCost(b *testing.B, rng *rand.Rand, s attnShape, sd *Senders, a []float32, backward bool) {
	pass := corePass(rng, s, sd, a, 1, backward)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		pass()
	}
	c := float64(cpuTime() - c0)
	b.ReportMetric(c/float64(b.N), "cpu-ns/op")
	b.ReportMetric(c/float64(b.N)/float64(s.N), "cpu-ns/agent")
}
