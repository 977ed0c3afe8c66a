// Package marl owns the learning algorithms of commgraph: rollout buffer, GAE,
// value normalisation, the PPO loss, optimisers and checkpoints, behind the
// Algorithm contract that experiments drive (defined in the leaf package
// marl/contract and re-exported here). Sub-packages hold concrete algorithms
// (commformer: the learned-graph policy and its bi-level trainer; blackbox:
// the DSE baselines, which import only marl/contract), each with its own
// configuration type and defaults. marl reads no TOML and writes no files other than
// the checkpoints it is asked to write.
package marl
