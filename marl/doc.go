// Package marl owns the learning algorithms of commgraph: rollout buffer, GAE,
// value normalisation, the PPO loss, optimisers and checkpoints, behind the
// Algorithm contract that experiments drive. Sub-packages hold concrete
// algorithms (commformer: the learned-graph policy and its bi-level trainer;
// black-box DSE baselines). marl reads no TOML and writes no files other than
// the checkpoints it is asked to write.
package marl
