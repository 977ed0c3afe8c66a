package experiments

import (
	"fmt"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/commformer"
)

// The CommFormer learner: [algorithm.commformer] is commformer.Config.
func init() {
	RegisterAlgorithm("commformer", commformer.DefaultConfig(), buildCommFormer)
}

// commFormerConfig completes the learner's configuration with the
// run-level settings it needs: threads, and the planned iterations that
// place the post_stable freeze, from the budget.
func commFormerConfig(c commformer.Config, run RunInfo) commformer.Config {
	c.Workers = run.Threads
	c.Iterations = run.Budget.Iterations
	if c.Iterations == 0 && run.Budget.EnvSteps > 0 {
		per := int64(c.Envs * c.Steps)
		c.Iterations = int((run.Budget.EnvSteps + per - 1) / per)
	}
	return c
}

func buildCommFormer(c commformer.Config, task *Task, run RunInfo) (marl.Algorithm, error) {
	if task.Env == nil {
		return nil, fmt.Errorf("commformer needs a multi-agent environment; %s is not one", task.Label)
	}
	est, parts := commformerMemory(c, task.Env.Spec())
	if err := checkMemory("this learner", est, run.MaxMemory, []string{
		fmt.Sprintf("algorithm.commformer.num_envs (%d) x rollout_steps (%d)", c.Envs, c.Steps),
		fmt.Sprintf("embed_dim (%d) x blocks (%d)", c.Embed, c.Blocks),
		fmt.Sprintf("minibatches (%d, more = smaller)", c.Minibatches),
	}, parts); err != nil {
		return nil, err
	}
	tr, err := commformer.New(task.Env, commFormerConfig(c, run), run.Seed)
	if err != nil {
		return nil, err
	}
	return &learnerRun{Trainer: tr, design: task.Design}, nil
}

// learnerRun adapts a commformer.Trainer to the runner: it keeps the
// design-evaluation cache in the trainer's checkpoint (so unique_evals continue
// exactly after a resume) and exposes graph snapshots.
type learnerRun struct {
	*commformer.Trainer
	design *envs.Tracker // nil unless the task is a design space
}

func (r *learnerRun) GraphSnapshot() (any, error) { return r.Trainer.Snapshot() }

// Checkpoint is the trainer's checkpoint with the design-evaluation cache.
func (r *learnerRun) Checkpoint() (*marl.Checkpoint, error) {
	c, err := r.Trainer.Checkpoint()
	if err != nil {
		return nil, err
	}
	if r.design != nil {
		c.Evaluations = r.design.Space().Records()
	}
	return c, nil
}

// Restore restores a state returned by Checkpoint.
func (r *learnerRun) Restore(c *marl.Checkpoint) error {
	if err := r.Trainer.Restore(c); err != nil {
		return err
	}
	if r.design != nil {
		return r.design.Space().Restore(c.Evaluations)
	}
	return nil
}
