package experiments

import "math"

// earlyStop is the state of the early-stopping rules of [budget]: regret
// (stop once the best design's regret is at most budget.regret) and
// patience (stop once the task's primary metric has not improved for
// budget.patience iterations). Its state is derived from the metrics rows
// alone, so a resumed run stops where the uninterrupted one would.
type earlyStop struct {
	started bool    // best and at are initialised
	scanned int     // metrics rows already folded into best/at
	best    float64 // best primary value so far (NaN: none yet)
	at      float64 // iteration where best was first reached
	reason  string  // why the run stopped early ("" = it did not)
}

// stopEarly reports whether row (the newest row; it may already be the
// last of r.metrics.rows) ends the run by an early-stopping rule, and
// records which.
func (r *runner) stopEarly(row Row) bool {
	b := r.cfg.Budget
	if !math.IsNaN(b.Regret) {
		if v, ok := row["regret"]; ok && v <= b.Regret {
			r.early.reason = "regret"
			return true
		}
	}
	if b.Patience <= 0 {
		return false
	}
	e := &r.early
	if !e.started {
		e.started, e.best = true, math.NaN()
	}
	for ; e.scanned < len(r.metrics.rows); e.scanned++ {
		r.foldPrimary(r.metrics.rows[e.scanned])
	}
	r.foldPrimary(row)
	if _, ok := row[r.task.Primary.Name]; ok && !math.IsNaN(e.best) && row["iteration"]-e.at >= float64(b.Patience) {
		e.reason = "patience"
		return true
	}
	return false
}

// foldPrimary updates the best primary value with one row: an improvement
// is a strictly better value in the primary metric's direction.
func (r *runner) foldPrimary(row Row) {
	v, ok := row[r.task.Primary.Name]
	if !ok || math.IsNaN(v) {
		return
	}
	e := &r.early
	better := math.IsNaN(e.best) || (r.task.Primary.HigherIsBetter && v > e.best) || (!r.task.Primary.HigherIsBetter && v < e.best)
	if better {
		e.best, e.at = v, row["iteration"]
	}
}
