package commformer

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/commgraph/commgraph/marl"
)

// Pairwise payoff screening (alpha_source = "payoff").
//
// An edge j -> i is worth one of agent i's k slots when what agent i should
// do depends on what agent j does: when i's reward contains a pair term
// q_ij(a_i, a_j) that does not split into a part of a_i plus a part of a_j.
// Context-Aware Sparse Deep Coordination Graphs (Wang, Dong, Lesser and
// Zhang, ICLR 2022) select coordination-graph edges by how much a learned
// pairwise payoff varies with the partner's action. We measure the same
// quantity without a payoff network: over the warm-up's rollouts, agent i's
// per-step reward is laid out by the pair (a_i, a_j) for every ordered pair
// (a two-way table of A_i x A_j cells), an additive model mu + row(a_i) +
// col(a_j) is fitted by weighted least squares, and the edge's evidence is
// the interaction F statistic: the variance the additive model leaves in the
// cell means, per degree of freedom, over the within-cell variance per
// degree of freedom. F is about 1 for a sender that does not matter to i
// and grows with the samples for one that does; the logit is log F.
//
// The statistic needs what every centralised trainer has (actions and
// rewards), and no trained model: it ranks senders from the first rollouts,
// so the graph can freeze early and the model learns to read the right
// senders for the rest of the run. It suits tasks with per-agent credit
// (difference rewards); with a shared reward the pair terms of every agent
// share one signal and the evidence is weaker. Samples in which agent i's
// action was forced (envs.ActionForcer: a pinned knob) say nothing about
// i's choices and are skipped for i as receiver (they still count as
// senders: the forced value is what the partner faced).

// payoffStats accumulates, for every ordered pair (i receiver, j sender),
// the count, sum and sum of squares of i's reward in each (a_i, a_j) cell.
type payoffStats struct {
	n    int
	acts []int     // action count of every agent
	off  []int     // [n*n] offset of pair (i, j)'s A_i x A_j cells in cell
	cell []float64 // 3 values per cell: count, sum, sum of squares
}

func newPayoffStats(acts []int) *payoffStats {
	n := len(acts)
	p := &payoffStats{n: n, acts: append([]int(nil), acts...), off: make([]int, n*n)}
	size := 0
	for i := range n {
		for j := range n {
			p.off[i*n+j] = size
			if j != i {
				size += 3 * acts[i] * acts[j]
			}
		}
	}
	p.cell = make([]float64, size)
	return p
}

// add folds S samples of n agents in: actions and rewards [S*n], forced
// [S*n] (>= 0 marks a forced action; nil = all free).
func (p *payoffStats) add(actions []int32, rewards []float32, forced []int32) {
	n := p.n
	for s := 0; s < len(actions)/n; s++ {
		a := actions[s*n : (s+1)*n]
		for i := range n {
			if forced != nil && forced[s*n+i] >= 0 {
				continue
			}
			r := float64(rewards[s*n+i])
			ai := int(a[i])
			for j := range n {
				if j == i {
					continue
				}
				c := p.off[i*n+j] + 3*(ai*p.acts[j]+int(a[j]))
				p.cell[c]++
				p.cell[c+1] += r
				p.cell[c+2] += r * r
			}
		}
	}
}

// logF writes into dst [n*n] the log interaction F statistic of every
// ordered pair (rows = receivers), 0 on the diagonal.
func (p *payoffStats) logF(dst []float64) {
	n := p.n
	for i := range n {
		dst[i*n+i] = 0
		for j := range n {
			if j != i {
				dst[i*n+j] = math.Log(interactionF(p.cell[p.off[i*n+j]:], p.acts[i], p.acts[j]))
			}
		}
	}
}

// fTiny keeps log F finite: a table with no evidence (no interaction
// degrees of freedom, or no samples) scores F = fTiny, below any measured
// table; a table whose cells have no spread divides by fTiny instead of 0.
const fTiny = 1e-12

// interactionF is the interaction F statistic of an R x C table of cells
// (count, sum, sum of squares). The additive model is fitted to the cell
// means weighted by their counts by alternating row and column updates
// (backfitting, which converges to the least-squares fit of a two-way
// layout); empty cells are left out, and the degrees of freedom count only
// the cells, rows and columns that have samples.
func interactionF(cells []float64, R, C int) float64 {
	m := make([]float64, R*C)
	row, col := make([]float64, R), make([]float64, C)
	rowUsed, colUsed := make([]bool, R), make([]bool, C)
	var total, withinSS float64
	cellsUsed := 0
	var grand float64
	for a := range R {
		for b := range C {
			k := 3 * (a*C + b)
			cnt := cells[k]
			if cnt == 0 {
				continue
			}
			mu := cells[k+1] / cnt
			m[a*C+b] = mu
			withinSS += max(cells[k+2]-cnt*mu*mu, 0)
			total += cnt
			grand += cells[k+1]
			cellsUsed++
			rowUsed[a], colUsed[b] = true, true
		}
	}
	rows, cols := 0, 0
	for _, u := range rowUsed {
		if u {
			rows++
		}
	}
	for _, u := range colUsed {
		if u {
			cols++
		}
	}
	dfInt := cellsUsed - rows - cols + 1
	dfWithin := total - float64(cellsUsed)
	if dfInt <= 0 || dfWithin <= 0 {
		return fTiny
	}
	grand /= total
	// Backfitting: row effects given the columns, then columns given the
	// rows; 50 sweeps are far past convergence for tables this small
	// (nearly balanced tables converge in one).
	for range 50 {
		halfStep(row, col, cells, m, grand, R, C, C, 1)
		halfStep(col, row, cells, m, grand, C, R, 1, C)
	}
	var intSS float64
	for a := range R {
		for b := range C {
			if cnt := cells[3*(a*C+b)]; cnt > 0 {
				d := m[a*C+b] - grand - row[a] - col[b]
				intSS += cnt * d * d
			}
		}
	}
	msWithin := max(withinSS/dfWithin, fTiny)
	return max(intSS/float64(dfInt)/msWithin, fTiny)
}

// halfStep is one half of a backfitting sweep: every effect of one factor
// (n of them, dst) is set to the count-weighted mean of the cell means minus
// the grand mean and the other factor's effects (other), over that
// effect's non-empty cells. Cell (i, j) of the factor's i-th effect and the
// other's j-th sits at i*si + j*sj of the R x C table (rows: si = C, sj = 1;
// columns: si = 1, sj = C).
func halfStep(dst, other, cells, m []float64, grand float64, n, no, si, sj int) {
	for i := range n {
		var s, w float64
		for j := range no {
			k := i*si + j*sj
			if cnt := cells[3*k]; cnt > 0 {
				s += cnt * (m[k] - grand - other[j])
				w += cnt
			}
		}
		if w > 0 {
			dst[i] = s / w
		}
	}
}

// marshal encodes the accumulators for a checkpoint (float64 LE).
func (p *payoffStats) marshal() []byte {
	b := make([]byte, 8*len(p.cell))
	for k, v := range p.cell {
		binary.LittleEndian.PutUint64(b[8*k:], math.Float64bits(v))
	}
	return b
}

func (p *payoffStats) unmarshal(b []byte) error {
	if len(b) != 8*len(p.cell) {
		return fmt.Errorf("commformer: checkpoint payoff statistics have %d bytes, want %d (a different task or action counts)", len(b), 8*len(p.cell))
	}
	for k := range p.cell {
		p.cell[k] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*k:]))
	}
	return nil
}

// payoffBlob names the accumulators in a checkpoint's Blobs.
const payoffBlob = "payoff"

// measurePayoff, with alpha_source = payoff, folds this iteration's rollout
// into the pair tables (iterations after alpha_start up to the end of the
// warm-up) and sets the logits to log F (to the pair scores of log F with
// alpha_symmetric), so the logged graph follows the evidence as it comes
// in.
func (t *Trainer) measurePayoff() error {
	c := t.cfg
	if c.AlphaSource != "payoff" || t.iter <= c.AlphaStart || t.iter > c.Warmup {
		return nil
	}
	b := t.buf
	t.payoff.add(b.Actions, b.Rewards, t.forced)
	alpha := t.m.graph.Logits()
	t.payoff.logF(alpha)
	if c.AlphaSymmetric {
		pairScores(alpha, t.m.N)
	}
	return t.m.graph.SetLogits(alpha)
}

// restorePayoff loads the pair tables from a checkpoint. A checkpoint taken
// before any rollout was folded in (iteration <= alpha_start) may lack them
// (a fork from another alpha source's warm-up); a later one must have them.
func (t *Trainer) restorePayoff(c *marl.Checkpoint) error {
	if data, ok := blobNamed(c, payoffBlob); ok {
		return t.payoff.unmarshal(data)
	}
	if c.Iteration > t.cfg.AlphaStart {
		return fmt.Errorf("commformer: alpha_source = payoff: the checkpoint of iteration %d has no payoff statistics (it was written by a run with another alpha_source, or before alpha_start = %d had passed)", c.Iteration, t.cfg.AlphaStart)
	}
	clear(t.payoff.cell)
	return nil
}
