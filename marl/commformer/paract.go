package commformer

import (
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/commgraph/commgraph/comm"
)

// The acting path on several goroutines. Every computation of the fast
// actor is per sample (row b of a batch): the matrix products compute each
// element of a row with the same operations whatever the number of rows
// (gemm's blocked Sgemm), attention, layer norm, the gate and the
// log-softmax work on one sample at a time, and the graph is the same for
// every sample. So a batch of B samples can be cut into blocks of rows, each
// acted on by its own fast actor on its own goroutine, with the results of
// one actor over the whole batch, bit for bit. The only coupling is the
// random stream: one actor draws the gate samples (row order) and then, for
// each agent in decoding order, one uniform per freely sampled row (row
// order). splitActor draws the same values from the stream first, in that
// order, and hands each block its own values through a replay stream, so
// the stream ends in the same state and every row gets the same draws. The
// graph context (adjacency, edge embedding, relation projections) is
// computed once per call and shared, read only, by the blocks.

// resolveWorkers is Config.Workers with 0 = GOMAXPROCS.
func resolveWorkers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// replaySource is a rand.Source that returns a prepared sequence.
type replaySource struct {
	v []uint64
	i int
}

func (r *replaySource) Uint64() uint64 {
	if r.i >= len(r.v) {
		panic("commformer: replay stream exhausted (acting drew more values than prepared)")
	}
	x := r.v[r.i]
	r.i++
	return x
}

// splitActor is a policy over B samples that acts on blocks of rows, one
// fast actor per block, concurrently.
type splitActor struct {
	m     *model
	B     int
	lo    []int // block p holds rows lo[p] <= b < lo[p+1]
	parts []*fastActor
	srcs  []*replaySource
	rngs  []*rand.Rand
	errs  []error
	mode  comm.Mode
	ctx   graphCtx // the graph context of every block, computed once per call
}

// newSplitActor returns a fast actor for B samples split into up to
// workers blocks (at least one row each).
func (m *model) newSplitActor(B, workers int) *splitActor {
	p := max(1, min(workers, B))
	s := &splitActor{m: m, B: B, lo: make([]int, p+1), mode: comm.ModeExact, errs: make([]error, p)}
	for k := 0; k < p; k++ {
		s.lo[k+1] = B * (k + 1) / p
		rows := s.lo[k+1] - s.lo[k]
		s.parts = append(s.parts, m.newFastActor(rows))
		src := &replaySource{}
		s.srcs = append(s.srcs, src)
		s.rngs = append(s.rngs, rand.New(src))
	}
	return s
}

func (s *splitActor) setMode(mode comm.Mode) {
	s.mode = mode
	for _, fa := range s.parts {
		fa.setMode(mode)
	}
}

// run calls f(p, lo, hi) for every block on its own goroutine (the first
// on the caller's) and returns the first error in block order.
func (s *splitActor) run(f func(p, lo, hi int) error) error {
	var wg sync.WaitGroup
	for p := 1; p < len(s.parts); p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.errs[p] = f(p, s.lo[p], s.lo[p+1])
		}()
	}
	s.errs[0] = f(0, s.lo[0], s.lo[1])
	wg.Wait()
	for _, err := range s.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sub returns rows lo..hi of a [B*n] slice (nil stays nil).
func sub[T any](v []T, lo, hi, n int) []T {
	if v == nil {
		return nil
	}
	return v[lo*n : hi*n]
}

// act is fastActor.act over the blocks (see the comment at the top).
func (s *splitActor) act(obs []float32, order, forced []int32, greedy bool, rng *rand.Rand, actions []int32, logp, values []float32, gates []float64) error {
	m := s.m
	N, O := m.N, m.O
	if len(s.parts) == 1 {
		return s.parts[0].act(obs, order, forced, greedy, rng, actions, logp, values, gates)
	}
	// The draws of one actor over the whole batch, dealt to the blocks.
	if rng != nil {
		for p := range s.srcs {
			s.srcs[p].v, s.srcs[p].i = s.srcs[p].v[:0], 0
		}
		block := func(b int) int {
			p := 0
			for b >= s.lo[p+1] {
				p++
			}
			return p
		}
		if m.sampleGates(greedy, rng) && m.gate.Enabled() {
			// comm.Gate.SampleF32: one nonzero Float64 per row, in row
			// order, unless the gate is held (then it draws nothing;
			// SampleF32 checks the same flag).
			if !m.gate.Held() {
				for b := 0; b < s.B; b++ {
					src := s.srcs[block(b)]
					for range N {
						x := rng.Uint64()
						for x<<11>>11 == 0 { // Float64() == 0: drawn again
							x = rng.Uint64()
						}
						src.v = append(src.v, x)
					}
				}
			}
		}
		if !greedy {
			for _, i := range order {
				for b := 0; b < s.B; b++ {
					if forced != nil && forced[b*N+int(i)] >= 0 {
						continue
					}
					s.srcs[block(b)].v = append(s.srcs[block(b)].v, rng.Uint64())
				}
			}
		}
	}
	m.graphInto(&s.ctx, m.graph.Matrix(s.mode, nil), true)
	return s.run(func(p, lo, hi int) error {
		fa := s.parts[p]
		fa.shared = &s.ctx
		var r *rand.Rand
		if rng != nil {
			r = s.rngs[p]
		}
		err := fa.act(sub(obs, lo, hi, N*O), order, sub(forced, lo, hi, N), greedy, r, sub(actions, lo, hi, N),
			sub(logp, lo, hi, N), sub(values, lo, hi, N), sub(gates, lo, hi, N))
		fa.shared = nil
		if err == nil && rng != nil && s.srcs[p].i != len(s.srcs[p].v) {
			panic("commformer: acting drew fewer values than prepared")
		}
		return err
	})
}

// values is fastActor.values over the blocks.
func (s *splitActor) values(obs []float32, values []float32) error {
	N, O := s.m.N, s.m.O
	if len(s.parts) == 1 {
		return s.parts[0].values(obs, values)
	}
	s.m.graphInto(&s.ctx, s.m.graph.Matrix(s.mode, nil), false)
	return s.run(func(p, lo, hi int) error {
		fa := s.parts[p]
		fa.shared = &s.ctx
		err := fa.values(sub(obs, lo, hi, N*O), sub(values, lo, hi, N))
		fa.shared = nil
		return err
	})
}
