package commformer

import (
	"testing"

	"github.com/commgraph/commgraph/comm"
)

// TestScoreGateLearnsWhoListens: on the signal task with a bystander, a
// score-function gate with a communication cost learns that only the
// listener needs messages: its gate stays open while the bystander's closes
// (the speaker's, which costs and buys nothing, mostly), and the listener
// still finds the bit (a team return near the optimum 8/3; 2 is the
// listener at chance). A gate that closes whatever the messages are worth
// fails it (the straight-through gate passes 1 of 5). Required in 4 of 5 seeds, as measured: in seed 5 the cost shuts
// the listener's gate before it has learned to listen (seed 6 passes).
func TestScoreGateLearnsWhoListens(t *testing.T) {
	pass := 0
	for seed := uint64(1); seed <= 5; seed++ {
		cfg := tinyConfig()
		cfg.Graph = comm.Full
		cfg.Gate = true
		cfg.GateEstimator = "score"
		cfg.GateBias = 0
		cfg.GateLambda = 0.1
		cfg.LR = 3e-3
		cfg.Envs, cfg.Steps = 8, 16
		tr, err := New(&signalEnv{Len: 4, Bystanders: 1}, cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		var ret float64
		for it := 1; it <= 60; it++ {
			m, err := tr.Iterate(bg)
			if err != nil {
				t.Fatal(err)
			}
			ret = m["episode_return"]
		}
		r := tr.lastRates // speaker, listener, bystander
		ok := r[1] >= 0.9 && r[0] <= 0.5 && r[2] <= 0.1 && ret >= 2.55
		t.Logf("seed %d: receive rates %.2f, return %.2f, pass %v", seed, r, ret, ok)
		if ok {
			pass++
		}
	}
	if pass < 4 {
		t.Errorf("the gate learned who listens in %d of 5 seeds, want >= 4", pass)
	}
}
