package commformer

import "github.com/commgraph/commgraph/marl"

// The minibatch inputs of the training graph, filled from the rollout
// buffer (split from trainer.go, which holds the bi-level loop).

// batchFill returns a minibatch filler for B samples of the buffer (the
// rollout has layer-normalised its observations into t.normObs).
func (t *Trainer) batchFill(B int) *batchFill {
	f := t.fills[B]
	if f == nil {
		f = newBatchFill(B, t.m.N, t.m.A, t.m.O)
		f.maskRow = t.m.maskRow
		t.fills[B] = f
	}
	f.src = t.normObs
	return f
}

// batchFill holds the scratch of one minibatch's inputs.
type batchFill struct {
	N, A, O                               int
	src                                   []float32 // normalised observations of the buffer
	obs, tok, oh, olp, adv, ov, ret, targ []float32
	order                                 []int32   // [B*N] decoding orders
	mask, maskRow                         []float32 // [B*N*A] action masks; [N*A] of the action counts
	gates                                 []float64 // [B*N] replayed acting gates
}

// replayGates returns the acting gates of the samples idx (from the
// rollout's gates, [samples*N]), in minibatch order.
func (f *batchFill) replayGates(idx []int, gates []float64) []float64 {
	N := f.N
	f.gates = f.gates[:0]
	for _, s := range idx {
		f.gates = append(f.gates, gates[s*N:(s+1)*N]...)
	}
	return f.gates
}

func newBatchFill(B, N, A, O int) *batchFill {
	R := B * N
	return &batchFill{N: N, A: A, O: O,
		obs: make([]float32, R*O), tok: make([]float32, R*(A+1)), oh: make([]float32, R*A),
		olp: make([]float32, R), adv: make([]float32, R), ov: make([]float32, R),
		ret: make([]float32, R), targ: make([]float32, R), mask: make([]float32, R*A)}
}

// fill copies the samples idx of the buffer into the training graph's
// inputs (teacher forcing: token i is agent i's taken action, read by the
// agents after it in the sample's decoding order), updates the value
// normaliser with their returns (as MAPPO does per minibatch) and writes the
// normalised targets. orders holds each rollout step's decoding order
// (sample s was taken at step s/envs).
func (f *batchFill) fill(tg *trainGraph, b *marl.Buffer, idx []int, adv []float32, vn *marl.ValueNorm, orders, forced []int32, envs int) {
	N, A, O := f.N, f.A, f.O
	clear(f.tok)
	clear(f.oh)
	for r, s := range idx { // action masks: the agents' counts, and forced actions
		for i := 0; i < N; i++ {
			m := f.mask[(r*N+i)*A : (r*N+i+1)*A]
			copy(m, f.maskRow[i*A:(i+1)*A])
			if a := forced[s*N+i]; a >= 0 {
				for j := range m {
					if j != int(a) {
						m[j] = maskNeg
					}
				}
			}
		}
	}
	if cap(f.order) < len(idx)*N {
		f.order = make([]int32, len(idx)*N)
	}
	f.order = f.order[:len(idx)*N]
	for r, s := range idx {
		copy(f.obs[r*N*O:(r+1)*N*O], f.src[s*N*O:(s+1)*N*O])
		st := s / envs
		copy(f.order[r*N:(r+1)*N], orders[st*N:(st+1)*N])
		for i := 0; i < N; i++ {
			src, dst := s*N+i, r*N+i
			f.oh[dst*A+int(b.Actions[src])] = 1
			f.tok[dst*(A+1)+1+int(b.Actions[src])] = 1
			f.olp[dst] = b.LogProbs[src]
			f.adv[dst] = adv[src]
			f.ov[dst] = b.Values[src]
			f.ret[dst] = b.Returns[src]
		}
	}
	vn.Update(f.ret)
	for i, r := range f.ret {
		f.targ[i] = float32(vn.Normalize(float64(r)))
	}
	tg.rank.SetOrder(f.order, N)
	put(tg.mask, f.mask)
	put(tg.obs, f.obs)
	put(tg.tok, f.tok)
	put(tg.onehot, f.oh)
	put(tg.oldLogp, f.olp)
	put(tg.adv, f.adv)
	put(tg.oldV, f.ov)
	put(tg.targ, f.targ)
}
