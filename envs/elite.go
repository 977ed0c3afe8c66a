package envs

import (
	"cmp"
	"slices"
	"sync"
)

// eliteArchive is the m best designs among a Counted space's placed
// evaluations (its evaluation order, see Counted.place), by an objective's
// score: the parents of the search form of RevisionEnv. It is a pure
// function of the placed order, which changes only between a method's
// iterations (when a Tracker reads), so every environment that reads it
// during a rollout sees the same archive, whichever goroutine reads first,
// and a run restored from a checkpoint (the order with its places) has the
// same archive. Safe for concurrent use.
type eliteArchive struct {
	c   *Counted
	obj *Objective
	m   int

	mu   sync.Mutex
	n    int // placed entries read so far
	gen  int // the order's generation they were read in
	best []eliteEntry
}

type eliteEntry struct {
	cfg   []int
	score float64
	seq   int
}

func newEliteArchive(c *Counted, obj *Objective, m int) *eliteArchive {
	return &eliteArchive{c: c, obj: obj, m: max(m, 1), gen: -1}
}

// pick brings the archive up to the placed order and returns the design of
// entry draw(m) of it, best first, or nil while it holds fewer than m
// designs. The design
// is shared: callers must not modify it.
func (a *eliteArchive) pick(draw func(int) int) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.update()
	if len(a.best) < a.m {
		return nil
	}
	return a.best[draw(a.m)].cfg
}

// update reads the placed evaluations not read yet (without placing
// anything) into the archive, best first (ties: the earlier place). Callers
// hold a.mu.
func (a *eliteArchive) update() {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	gen, order := a.c.gen, a.c.order
	if gen != a.gen {
		a.n, a.gen, a.best = 0, gen, a.best[:0]
	}
	for _, d := range order[a.n:] {
		if d.e.err != nil || d.e.metrics == nil {
			continue
		}
		s := a.obj.Reward(d.e.metrics)
		if len(a.best) == a.m && s <= a.best[a.m-1].score {
			continue
		}
		e := eliteEntry{cfg: decodeKey(d.key), score: s, seq: d.e.seq}
		i, _ := slices.BinarySearchFunc(a.best, e, func(x, y eliteEntry) int {
			return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(x.seq, y.seq))
		})
		a.best = slices.Insert(a.best, i, e)
		if len(a.best) > a.m {
			a.best = a.best[:a.m]
		}
	}
	a.n = len(order)
}
