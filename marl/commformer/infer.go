package commformer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/attention/gemm"
	"github.com/commgraph/commgraph/comm"
	"gonum.org/v1/gonum/blas"
)

// fastActor is the plain-float32 acting path: the same function as the
// gorgonia graphs (attention's inference path shares their arithmetic), with
// no expression graph, and an incremental decoder that caches the keys and
// values of agents already decoded, so N autoregressive steps cost about one
// full decoder pass instead of N.
type fastActor struct {
	m               *model
	mode            comm.Mode
	B               int
	ln, emb, h, h2  []float32 // [B*N, max(O, d)] scratch
	gate32          []float32
	gateLP          []float32 // log-probabilities of sampled gates
	states          []*attention.DecoderState
	tok, xin, xout  []float32 // per-agent rows [B, *]
	blank           []float32 // [d] embedded blank token
	rank            []int32   // [N] decoding positions
	hd, hd2, logits []float32
	dist            []float32 // [B*N, A] log-probabilities of every agent
	lp              []float64
	// own is the graph context computed from call to call; shared, when
	// set, replaces it (computed once for several actors on blocks of the
	// same batch, read only).
	own    graphCtx
	shared *graphCtx
	encSc  []attention.InferScratch
	// criticSc is the scratch of the critic's ungated encoder pass
	// (model.openCritic).
	criticSc []attention.InferScratch
	// matrix, when set, replaces the graph's matrix (influence probes), and
	// keepDist keeps the policy's own distribution in dist for forced
	// agents (teacher forcing) instead of the point mass.
	matrix   []float64
	keepDist bool
}

func (m *model) newFastActor(B int) *fastActor {
	R := B * m.N
	w := max(m.O, m.D)
	return &fastActor{m: m, mode: comm.ModeExact, B: B,
		ln: make([]float32, R*w), emb: make([]float32, R*m.D), h: make([]float32, R*m.D), h2: make([]float32, R*m.D),
		gate32: make([]float32, R),
		states: make([]*attention.DecoderState, len(m.dec)),
		tok:    make([]float32, B*(m.A+1)), xin: make([]float32, B*m.D), xout: make([]float32, B*m.D),
		hd: make([]float32, B*m.D), hd2: make([]float32, B*m.D), logits: make([]float32, B*m.A),
		dist: make([]float32, R*m.A), lp: make([]float64, m.A),
		blank: make([]float32, m.D), rank: make([]int32, m.N),
		encSc: make([]attention.InferScratch, len(m.enc)),
	}
}

// inferAgentLinear applies agent i's weights of l to the B rows of x
// (stride ldx) into dst (stride ldd).
func inferAgentLinear(l *agentLinear, i int, dst []float32, ldd int, x []float32, ldx, B int) {
	w := attention.F32(l.W)[i*l.In*l.Out : (i+1)*l.In*l.Out]
	c := attention.F32(l.B)[i*l.Out : (i+1)*l.Out]
	gemm.Sgemm(blas.NoTrans, blas.NoTrans, B, l.Out, l.In, 1, x, ldx, w, l.Out, 0, dst, ldd)
	for r := 0; r < B; r++ {
		dr := dst[r*ldd : r*ldd+l.Out]
		for j, v := range c {
			dr[j] += v
		}
	}
}

// graphCtx is what acting needs of the graph, the same for every sample:
// the adjacency, its sender lists (acting visits only each receiver's
// senders: O(N k d) per sample for a top-k graph), the edge embedding, and
// the relation projections of the encoder blocks and (once decReady) of
// the decoder blocks (self, cross).
type graphCtx struct {
	a32      []float32
	sd       attention.Senders
	sparse   bool // sd is in use (else dense attention)
	edge     []float32
	rels     []attention.Relations
	dec      [][2]attention.Relations
	decReady bool
}

// graphInto computes c for the adjacency mat; with dec also the decoder
// blocks' relations.
func (m *model) graphInto(c *graphCtx, mat []float64, dec bool) {
	N := m.N
	if len(c.a32) != N*N {
		c.a32 = make([]float32, N*N)
		c.rels = make([]attention.Relations, len(m.enc))
		c.dec = make([][2]attention.Relations, len(m.dec))
	}
	for k, v := range mat {
		c.a32[k] = float32(v)
	}
	var sd *attention.Senders
	c.sparse = !m.denseOnly
	if c.sparse {
		c.sd.Set(c.a32, N)
		sd = &c.sd
	}
	c.edge = m.edge.InferInto(c.edge, c.a32, sd)
	for l, blk := range m.enc {
		blk.Attn.RelationsInto(&c.rels[l], c.edge, sd)
	}
	c.decReady = false
	if dec {
		m.decRelations(c)
	}
}

// decRelations computes the decoder blocks' relations of c.
func (m *model) decRelations(c *graphCtx) {
	for l, blk := range m.dec {
		blk.RelationsInto(&c.dec[l][0], &c.dec[l][1], c.edge, c.senders())
	}
	c.decReady = true
}

func (c *graphCtx) senders() *attention.Senders {
	if c.sparse {
		return &c.sd
	}
	return nil
}

// setMode selects the graph of the next calls (warm-up or exact).
func (fa *fastActor) setMode(mode comm.Mode) { fa.mode = mode }

// encode runs the embedding, gate, graph and encoder on obs [B*N*O] and
// writes the normalised values (if non-nil) and acting gates (if non-nil).
//
// With sample non-nil the gates are drawn from their Bernoulli policies
// (score-function gate) and their log-probabilities kept in fa.gateLP.
func (fa *fastActor) encode(obs []float32, values []float32, gates []float64, sample *rand.Rand) ([]float32, attention.InferGraph, error) {
	m := fa.m
	B, N, D, O := fa.B, m.N, m.D, m.O
	R := B * N
	if len(obs) != R*O {
		return nil, attention.InferGraph{}, fmt.Errorf("commformer: act: %d observation values, want %d", len(obs), R*O)
	}
	// Observation embedding.
	ln := fa.ln[:R*O]
	normObs(ln, obs, O)
	m.obsLin.Infer(fa.emb, ln, R)
	attention.ActivateInto(attention.GELU, fa.emb, fa.emb)
	m.obsLN2.Infer(fa.emb, fa.emb)
	// Gate, graph, edge embedding.
	var gate []float32
	if m.gate.Enabled() {
		var lp []float32
		if sample != nil {
			if len(fa.gateLP) < R {
				fa.gateLP = make([]float32, R)
			}
			lp = fa.gateLP[:R]
		}
		if err := m.gate.SampleF32(fa.emb, R, sample, fa.gate32, lp); err != nil {
			return nil, attention.InferGraph{}, err
		}
		gate = fa.gate32
		if gates != nil {
			for r, v := range gate {
				gates[r] = float64(v)
			}
		}
	} else if gates != nil {
		for r := range gates[:R] {
			gates[r] = 1
		}
	}
	c := fa.shared
	if c == nil {
		mat := fa.matrix
		if mat == nil {
			mat = m.graph.Matrix(fa.mode, nil)
		}
		c = &fa.own
		m.graphInto(c, mat, false)
	}
	g := attention.InferGraph{N: N, A: c.a32, Edge: c.edge, Gate: gate, Senders: c.senders()}
	// Encoder and per-agent values.
	x := fa.emb
	for l, blk := range m.enc {
		x = blk.InferScratch(x, B, g, c.rels[l], &fa.encSc[l])
	}
	if values != nil {
		xv := x
		if m.openCritic() { // the critic's own pass, every gate open
			if fa.criticSc == nil {
				fa.criticSc = make([]attention.InferScratch, len(m.enc))
			}
			open := g
			open.Gate = nil
			xv = fa.emb
			for l, blk := range m.enc {
				xv = blk.InferScratch(xv, B, open, c.rels[l], &fa.criticSc[l])
			}
		}
		for i := 0; i < N; i++ {
			inferAgentLinear(m.vLin1, i, fa.h[i*D:], N*D, xv[i*D:], N*D, B)
		}
		attention.ActivateInto(attention.GELU, fa.h, fa.h)
		m.vLN.Infer(fa.h, fa.h)
		for i := 0; i < N; i++ {
			inferAgentLinear(m.vLin2, i, values[i:], N, fa.h[i*D:], N*D, B)
		}
	}
	return x, g, nil
}

// values writes the normalised values [B*N] of obs.
func (fa *fastActor) values(obs []float32, values []float32) error {
	_, _, err := fa.encode(obs, values, nil, nil)
	return err
}

// embedTokens writes tokLN(GELU(tokLin(tok))) of the B token rows in fa.tok
// into dst [B, d].
func (fa *fastActor) embedTokens(dst []float32, B int) {
	m := fa.m
	m.tokLin.Infer(dst, fa.tok[:B*(m.A+1)], B)
	attention.ActivateInto(attention.GELU, dst[:B*m.D], dst[:B*m.D])
	m.tokLN.Infer(dst[:B*m.D], dst[:B*m.D])
}

// act is model.act on the float32 inference path.
func (fa *fastActor) act(obs []float32, order, forced []int32, greedy bool, rng *rand.Rand, actions []int32, logp, values []float32, gates []float64) error {
	m := fa.m
	B, N, A, D := fa.B, m.N, m.A, m.D
	var sample *rand.Rand
	if m.sampleGates(greedy, rng) {
		sample = rng
	}
	x, g, err := fa.encode(obs, values, gates, sample)
	if err != nil {
		return err
	}
	if len(order) != N {
		return fmt.Errorf("commformer: act: decoding order of %d agents, want %d", len(order), N)
	}
	for p, i := range order {
		fa.rank[i] = int32(p)
	}
	g.Rank = fa.rank
	// The embedded blank token (the same for every agent and sample).
	clear(fa.tok)
	fa.tok[0] = 1
	fa.embedTokens(fa.xin, 1)
	copy(fa.blank, fa.xin[:D])
	// Autoregressive decoder.
	c := fa.shared
	if c == nil {
		c = &fa.own
	}
	if !c.decReady { // read-only when shared (splitActor prepares it)
		m.decRelations(c)
	}
	for l, blk := range m.dec {
		fa.states[l] = blk.StartShared(fa.states[l], x, B, g, &c.dec[l][0], &c.dec[l][1])
	}
	for _, i32 := range order {
		i := int(i32)
		for b := 0; b < B; b++ {
			copy(fa.xin[b*D:(b+1)*D], fa.blank)
		}
		in, out := fa.xin, fa.xout
		for l := range m.dec {
			fa.states[l].Step(i, in, out)
			in, out = out, in
		}
		// in holds the last block's output rows of agent i.
		m.aLN1.Infer(fa.hd, in)
		inferAgentLinear(m.aLin1, i, fa.hd2, D, fa.hd, D, B)
		attention.ActivateInto(attention.GELU, fa.hd2, fa.hd2)
		m.aLN2.Infer(fa.hd2, fa.hd2)
		inferAgentLinear(m.aLin2, i, fa.logits, A, fa.hd2, D, B)
		cnt := m.counts[i]
		for b := 0; b < B; b++ {
			row := fa.logits[b*A : (b+1)*A]
			// log-softmax over the available actions (masked ones get
			// maskNeg, i.e. probability 0, as in the graph path).
			mx := math.Inf(-1)
			for j := 0; j < cnt; j++ {
				mx = max(mx, float64(row[j]))
			}
			var s float64
			for j := 0; j < cnt; j++ {
				s += math.Exp(float64(row[j]) - mx)
			}
			lse := mx + math.Log(s)
			for j := 0; j < A; j++ {
				if j < cnt {
					fa.lp[j] = float64(row[j]) - lse
				} else {
					fa.lp[j] = maskNeg
				}
				fa.dist[(b*N+i)*A+j] = float32(fa.lp[j])
			}
			c := cnt - 1
			if forced != nil && forced[b*N+i] >= 0 {
				c = int(forced[b*N+i])
				for j := range fa.lp {
					fa.lp[j] = maskNeg
				}
				fa.lp[c] = 0
				if !fa.keepDist {
					pointMass(fa.dist[(b*N+i)*A:(b*N+i+1)*A], c)
				}
			} else if greedy {
				c = 0
				for j := 1; j < cnt; j++ {
					if fa.lp[j] > fa.lp[c] {
						c = j
					}
				}
			} else {
				var tot float64
				for j := 0; j < cnt; j++ {
					tot += math.Exp(fa.lp[j])
				}
				u := rng.Float64() * tot
				var cum float64
				for j := 0; j < cnt; j++ {
					cum += math.Exp(fa.lp[j])
					if u < cum {
						c = j
						break
					}
				}
			}
			actions[b*N+i] = int32(c)
			if logp != nil {
				logp[b*N+i] = float32(fa.lp[c])
				if sample != nil {
					logp[b*N+i] += fa.gateLP[b*N+i]
				}
			}
		}
		// Agent i's chosen-action tokens, for the agents after it.
		clear(fa.tok)
		for b := 0; b < B; b++ {
			fa.tok[b*(A+1)+1+int(actions[b*N+i])] = 1
		}
		fa.embedTokens(fa.xin, B)
		for l := range m.dec {
			fa.states[l].Commit(i, fa.xin)
		}
	}
	return nil
}
