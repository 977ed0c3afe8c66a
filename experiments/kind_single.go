package experiments

import (
	"fmt"

	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/single"
)

// The single-agent RL baselines of design-space exploration:
// [algorithm.ppo_single] is single.PPOOptions, [algorithm.sac]
// single.SACOptions. Like the black-box searches they run on any task with
// a design space, on its evaluation cache and unique-evaluation budget.
func init() {
	RegisterAlgorithm(single.KindPPO, single.DefaultPPO(), func(o single.PPOOptions, task *Task, run RunInfo) (marl.Algorithm, error) {
		if task.Design == nil {
			return nil, fmt.Errorf("key algorithm.kind: %s searches a design space; task %s is not one", single.KindPPO, task.Label)
		}
		o.Workers, o.Budget, o.Optimum = run.Threads, int(run.Budget.Evaluations), task.Design.Optimum()
		return single.NewPPO(task.Design.Space(), task.Design.Objective(), o, run.Seed)
	})
	RegisterAlgorithm(single.KindSAC, single.DefaultSAC(), func(o single.SACOptions, task *Task, run RunInfo) (marl.Algorithm, error) {
		if task.Design == nil {
			return nil, fmt.Errorf("key algorithm.kind: %s searches a design space; task %s is not one", single.KindSAC, task.Label)
		}
		o.Workers, o.Budget, o.Optimum = run.Threads, int(run.Budget.Evaluations), task.Design.Optimum()
		return single.NewSAC(task.Design.Space(), task.Design.Objective(), o, run.Seed)
	})
}
