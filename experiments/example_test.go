package experiments_test

import (
	"fmt"

	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl/commformer"
)

// A typo in a config file is an error naming the file, line and key, never a
// silent default.
func ExampleDecodeConfig() {
	_, err := experiments.DecodeConfig("my.toml", []byte(`name = "x"
[algorithm.commformer]
graph = "learned"
sparsity = 1.4
learning_rate = 3e-4
`))
	fmt.Println(err)
	// Output:
	// my.toml:4: key algorithm.commformer.sparsity: value 1.4 out of range (allowed: (0, 1])
	// my.toml:5: key algorithm.commformer.learning_rate: unknown key "learning_rate"; known keys in [algorithm.commformer]: embed_dim, heads, blocks, graph, graph_file, sparsity, senders, tau, warmup, post_stable, post_ratio, alpha_lr, alpha_every, alpha_start, alpha_decay, alpha_source, alpha_symmetric, influence_every, alpha_value_coef, gating, gate_tau, gate_cost, gate_hidden, gate_bias, gate_start, gate_estimator, gate_entropy, lr, target_kl, lr_min, lr_max, adam_eps, max_grad_norm, epochs, minibatches, clip, gamma, gae_lambda, value_coef, entropy_coef, entropy_decay, entropy_final, entropy_target, entropy_coef_max, huber_delta, num_envs, rollout_steps
}

// Overrides from the command line are typed by the schema.
func ExampleApplyOverride() {
	cfg := experiments.DefaultConfig()
	fmt.Println(experiments.ApplyOverride(&cfg, "algorithm.commformer.lr=3e-4"), cfg.Algorithm.Table("commformer").(commformer.Config).LR)
	fmt.Println(experiments.ApplyOverride(&cfg, "algorithm.commformer.epochs=many"))
	// Output:
	// <nil> 0.0003
	// --set algorithm.commformer.epochs=many: key algorithm.commformer.epochs: cannot read "many" as a value of type integer (allowed: [1, 1000])
}
