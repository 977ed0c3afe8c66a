package experiments

import (
	"fmt"

	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/blackbox"
)

// The black-box design-space searches: [algorithm.random] is
// blackbox.RandomOptions, [algorithm.genetic] blackbox.GeneticOptions,
// [algorithm.aco] blackbox.ACOOptions, [algorithm.tpe] blackbox.TPEOptions.
func init() {
	registerSearch(blackbox.KindRandom, blackbox.Options(blackbox.KindRandom).(blackbox.RandomOptions))
	registerSearch(blackbox.KindGenetic, blackbox.Options(blackbox.KindGenetic).(blackbox.GeneticOptions))
	registerSearch(blackbox.KindACO, blackbox.Options(blackbox.KindACO).(blackbox.ACOOptions))
	registerSearch(blackbox.KindTPE, blackbox.Options(blackbox.KindTPE).(blackbox.TPEOptions))
}

// registerSearch registers one search kind. It runs on any task with a
// design space (Task.Design), sharing its evaluation cache, so budgets and
// regret are charged and measured as for the learner.
func registerSearch[O interface{ Settings() blackbox.Config }](kind string, defaults O) {
	RegisterAlgorithm(kind, defaults, func(o O, task *Task, run RunInfo) (marl.Algorithm, error) {
		if task.Design == nil {
			return nil, fmt.Errorf("key algorithm.kind: %s searches a design space; task %s is not one", kind, task.Label)
		}
		c := o.Settings()
		c.Workers = run.Threads
		c.Budget = int(run.Budget.Evaluations)
		c.Optimum = task.Design.Optimum()
		return blackbox.New(kind, task.Design.Space(), task.Design.Objective(), c, run.Seed)
	})
}
