package blackbox

import (
	"math/rand/v2"

	"github.com/commgraph/commgraph/marl/contract"
)

// maxEnumerate bounds the spaces whose unseen configurations the random
// search lists explicitly once rejection sampling stalls.
const maxEnumerate = 1 << 21

// rejectTries is how many uniform draws in a row may hit evaluated designs
// before the random search switches to listing the unseen ones.
const rejectTries = 64

// randomSearch samples configurations uniformly without replacement
// (Bergstra and Bengio, "Random search for hyper-parameter optimization",
// JMLR 2012, is the usual reference baseline). While most of the space is
// unseen it draws uniformly and rejects designs already evaluated or drawn
// in the batch, which is exactly uniform over the unseen ones; when 64
// draws in a row are rejected and the space has at most 2^21
// configurations it lists the unseen ones and picks among them uniformly.
// It proposes no more designs than the budget has left, so every
// evaluation is a uniform draw.
type randomSearch struct {
	rng *rand.Rand
}

func (m *randomSearch) propose(s *Search) [][]int {
	n := min(s.cfg.Batch, s.remaining())
	return s.sampleUnseen(m.rng, n)
}

// sampleUnseen draws up to n distinct configurations not in the history,
// uniformly without replacement; fewer (and s.exh set) when the space has
// run out of unseen ones.
func (s *Search) sampleUnseen(r *rand.Rand, n int) [][]int {
	var out [][]int
	batch := map[string]bool{}
	for len(out) < n {
		c := make([]int, len(s.sizes))
		ok := false
		for range rejectTries {
			s.uniform(r, c)
			if k := key(c); !s.known(c) && !batch[k] {
				batch[k] = true
				ok = true
				break
			}
		}
		if ok {
			out = append(out, c)
			continue
		}
		if s.space > maxEnumerate {
			// A huge space almost entirely evaluated cannot happen within any
			// feasible budget; accept a repeat rather than loop.
			out = append(out, c)
			continue
		}
		rest := s.listUnseen(batch)
		for len(out) < n && len(rest) > 0 {
			j := r.IntN(len(rest))
			out = append(out, rest[j])
			rest[j] = rest[len(rest)-1]
			rest = rest[:len(rest)-1]
		}
		if len(out) < n {
			s.exh = true
		}
		break
	}
	return out
}

// listUnseen enumerates the configurations neither in the history nor in
// batch, in counting order (last knob fastest).
func (s *Search) listUnseen(batch map[string]bool) [][]int {
	var out [][]int
	c := make([]int, len(s.sizes))
	for {
		if k := key(c); !s.known(c) && !batch[k] {
			out = append(out, append([]int(nil), c...))
		}
		i := len(c) - 1
		for i >= 0 {
			c[i]++
			if c[i] < s.sizes[i] {
				break
			}
			c[i] = 0
			i--
		}
		if i < 0 {
			return out
		}
	}
}

func (m *randomSearch) observe(*Search, [][]int, []int) {}
func (m *randomSearch) metrics(contract.Metrics)        {}
func (m *randomSearch) state() ([]byte, error)          { return nil, nil }
func (m *randomSearch) setState([]byte) error           { return nil }
func (m *randomSearch) check(*Search) error             { return nil }
