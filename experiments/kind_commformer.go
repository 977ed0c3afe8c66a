package experiments

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

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
	tr, err := commformer.New(task.Env, commFormerConfig(c, run), run.Seed)
	if err != nil {
		return nil, err
	}
	return &learnerRun{Trainer: tr, design: task.Design}, nil
}

// learnerRun adapts a commformer.Trainer to the runner: it saves the
// design-evaluation cache with the trainer state (so unique_evals continue
// exactly after a resume) and exposes graph snapshots.
type learnerRun struct {
	*commformer.Trainer
	design *envs.Tracker // nil unless the task is a design space
}

func (r *learnerRun) GraphSnapshot() (any, error) { return r.Trainer.Snapshot() }

// Save writes the trainer state followed by the design-evaluation cache.
func (r *learnerRun) Save(w io.Writer) error {
	var b bytes.Buffer
	if err := r.Trainer.Save(&b); err != nil {
		return err
	}
	hdr := binary.LittleEndian.AppendUint64(nil, uint64(b.Len()))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	var recs []envs.CountedRecord
	if r.design != nil {
		recs = r.design.Space().Records()
	}
	return json.NewEncoder(w).Encode(recs)
}

// Load restores a state written by Save.
func (r *learnerRun) Load(rd io.Reader) error {
	var hdr [8]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return fmt.Errorf("learner checkpoint: %w", err)
	}
	n := binary.LittleEndian.Uint64(hdr[:])
	if n > 1<<34 {
		return fmt.Errorf("learner checkpoint: trainer state of %d bytes", n)
	}
	blob := make([]byte, n)
	if _, err := io.ReadFull(rd, blob); err != nil {
		return fmt.Errorf("learner checkpoint: %w", err)
	}
	if err := r.Trainer.Load(bytes.NewReader(blob)); err != nil {
		return err
	}
	var recs []envs.CountedRecord
	if err := json.NewDecoder(rd).Decode(&recs); err != nil {
		return fmt.Errorf("learner checkpoint: evaluation cache: %w", err)
	}
	if r.design != nil {
		return r.design.Space().Restore(recs)
	}
	return nil
}
