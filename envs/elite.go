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
	c     *Counted
	obj   *Objective
	m     int
	stall int     // see pick; 0 = never
	first [][]int // the first generation's designs, see pick

	mu   sync.Mutex
	n    int // placed entries read so far
	gen  int // the order's generation they were read in
	best []eliteEntry
	// improved is the place of the first design that reached the best
	// score (a strict improvement); 0 before any.
	improved int
}

type eliteEntry struct {
	cfg   []int
	score float64
	seq   int
}

func newEliteArchive(c *Counted, obj *Objective, m, stall int, first [][]int) *eliteArchive {
	return &eliteArchive{c: c, obj: obj, m: max(m, 1), stall: stall, first: first, gen: -1}
}

// pick brings the archive up to the placed order and returns the design of
// entry draw(m) of it, best first, or, while it holds fewer than m designs,
// design draw(len(first)) of the first generation (nil without one); first
// reports the latter case (the archive is not full yet). While the search stalls (with stall > 0: stall or more unique
// evaluations placed since the best score was first reached) it also
// returns nil for half of the draws: random immigrants (Grefenstette,
// "Genetic algorithms for changing environments", 1992) that let a search
// stuck on a deceptive landscape, such as a narrow target reachable only
// far from its elites, sample the space again, while the other half keeps
// refining the elites. The design is shared: callers must not modify it.
func (a *eliteArchive) pick(draw func(int) int) (cfg []int, first bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.update()
	if len(a.best) < a.m {
		if len(a.first) == 0 {
			return nil, true
		}
		return a.first[draw(len(a.first))], true
	}
	if a.stall > 0 && a.n-a.improved >= a.stall && draw(2) == 0 {
		return nil, false
	}
	return a.best[draw(a.m)].cfg, false
}

// member returns an archive member drawn uniformly (nil while the archive
// is empty), the second parent of a crossover.
func (a *eliteArchive) member(draw func(int) int) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.best) == 0 {
		return nil
	}
	return a.best[draw(len(a.best))].cfg
}

// update reads the placed evaluations not read yet (without placing
// anything) into the archive, best first; among designs of equal score the
// later place comes first, so a new design displaces an older one of the
// same score. That lets the archive drift across the plateaus of a
// quantised landscape (many DRAM designs share a makespan) instead of
// freezing on the first designs that reached one: the (1+1) EA's rule of
// accepting offspring as good as the parent (e.g. Droste, Jansen & Wegener,
// "On the analysis of the (1+1) evolutionary algorithm", TCS 2002).
// Callers hold a.mu.
func (a *eliteArchive) update() {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	gen, order := a.c.gen, a.c.order
	if gen != a.gen {
		a.n, a.gen, a.best, a.improved = 0, gen, a.best[:0], 0
	}
	for _, d := range order[a.n:] {
		if d.e.err != nil || d.e.metrics == nil {
			continue
		}
		s := a.obj.Reward(d.e.metrics)
		if len(a.best) == a.m && s < a.best[a.m-1].score {
			continue
		}
		e := eliteEntry{cfg: decodeKey(d.key), score: s, seq: d.e.seq}
		if len(a.best) == 0 || s > a.best[0].score {
			a.improved = d.e.seq
		}
		i, _ := slices.BinarySearchFunc(a.best, e, func(x, y eliteEntry) int {
			return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(y.seq, x.seq))
		})
		a.best = slices.Insert(a.best, i, e)
		if len(a.best) > a.m {
			a.best = a.best[:a.m]
		}
	}
	a.n = len(order)
}
