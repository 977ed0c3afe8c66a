package commformer_test

import (
	"context"
	"fmt"

	"github.com/commgraph/commgraph/envs/predprey"
	"github.com/commgraph/commgraph/marl/commformer"
)

// Train a small CommFormer on predator-prey for one iteration and evaluate
// it deterministically.
func Example() {
	cfg := commformer.DefaultConfig()
	cfg.Embed = 16
	cfg.Envs, cfg.Steps = 4, 25
	cfg.Epochs = 2
	tr, err := commformer.New(predprey.MustNew(predprey.Easy()), cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := tr.Iterate(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := tr.Evaluate(context.Background(), 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("iteration", m["iteration"], "env steps", m["env_steps"])
	fmt.Println("senders per receiver:", tr.Graph().K())
	fmt.Println("evaluated episodes:", e["eval_episodes"], "finished within the cap:", e["eval_length"] <= 20)
	// Output:
	// iteration 1 env steps 100
	// senders per receiver: 1
	// evaluated episodes: 10 finished within the cap: true
}
