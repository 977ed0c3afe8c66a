package experiments

// When a run ends: the limits of [budget], and the checks that end a run
// whose budget cannot be reached instead of letting it spin.

import (
	"fmt"
	"math"
	"strings"

	"github.com/commgraph/commgraph/envs"
)

// stallIterations is how many iterations in a row the counts of a run
// without budget.iterations (env_steps, unique_evals) may stay flat before
// the run is ended as unable to reach its budget.
const stallIterations = 1000

// evaluationsOnly reports whether budget.evaluations is the run's only
// hard limit (so a search that stops finding new designs would never end).
func (r *runner) evaluationsOnly() bool {
	b := r.cfg.Budget
	return b.Evaluations > 0 && b.Iterations == 0 && b.EnvSteps == 0
}

// budgetStalled ends a run without budget.iterations when none of its
// limits can still be reached: each of budget.env_steps and
// budget.evaluations that is set either has a column the algorithm does not
// report (a black-box search counts no env_steps) or has stayed flat for
// stallIterations iterations. Counted from the metrics rows, so a resumed
// run ends where an uninterrupted one does.
func (r *runner) budgetStalled(row Row) error {
	b := r.cfg.Budget
	if b.Iterations > 0 {
		return nil
	}
	var why []string
	for _, l := range []struct {
		key, col string
		n        int64
		hint     string
	}{
		{"budget.env_steps", "env_steps", b.EnvSteps, ""},
		{"budget.evaluations", "unique_evals", b.Evaluations, " (the search only revisits designs it has evaluated)"},
	} {
		if l.n <= 0 {
			continue
		}
		v, ok := row[l.col]
		if !ok {
			why = append(why, fmt.Sprintf("%s = %d cannot be reached: algorithm %s reports no %s", l.key, l.n, r.cfg.Algorithm.Kind, l.col))
			continue
		}
		since := 1
		for i := len(r.metrics.rows) - 1; i >= 0 && since < stallIterations; i-- {
			if r.metrics.rows[i][l.col] != v {
				break
			}
			since++
		}
		if since < stallIterations {
			return nil // still approaching this limit
		}
		why = append(why, fmt.Sprintf("%s = %d cannot be reached: %s has stayed at %.0f for %d iterations%s", l.key, l.n, l.col, v, stallIterations, l.hint))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%s; set budget.iterations as well, or a budget the algorithm approaches (run stopped; last checkpoint: iteration %d)", strings.Join(why, "; "), r.lastCkpt)
}

// checkReachable refuses, before the run starts, an evaluations budget
// larger than the design space when it is the run's only hard limit.
func (r *runner) checkReachable() error {
	if !r.evaluationsOnly() || r.task.Design == nil {
		return nil
	}
	n := envs.Size(r.task.Design.Space())
	if n < math.MaxInt && int64(n) < r.cfg.Budget.Evaluations {
		return fmt.Errorf("key budget.evaluations: %d unique evaluations cannot be reached: the design space of %s has %d designs; set budget.evaluations <= %d or a budget.iterations", r.cfg.Budget.Evaluations, r.taskLabel(), n, n)
	}
	return nil
}

// budgetReached reports whether the row ends the run.
func (r *runner) budgetReached(row Row) bool {
	b := r.cfg.Budget
	if b.Iterations > 0 && int(row["iteration"]) >= b.Iterations {
		return true
	}
	if v, ok := row["env_steps"]; ok && b.EnvSteps > 0 && v >= float64(b.EnvSteps) {
		return true
	}
	if v, ok := row["unique_evals"]; ok && b.Evaluations > 0 && v >= float64(b.Evaluations) {
		return true
	}
	return r.stopEarly(row)
}
