// Package commformer owns the CommFormer learner of commgraph: agents that
// learn whom to listen to (a sparse, learnable communication graph used as an
// attention mask; Hu et al., "Learning Multi-Agent Communication from Graph
// Modeling Perspective", ICLR 2024) and when to listen (a per-agent temporal
// gate, after the extension arXiv 2411.00382), trained with multi-agent PPO.
//
// The model (spec section 1) embeds each agent's observation, runs a
// graph-masked relation-aware encoder with per-agent value heads, and a
// MAT-style autoregressive decoder with per-agent action heads (agents may
// have different action counts; unavailable actions are masked). Training is
// teacher-forced in one pass on gorgonia (TapeMachine, one compiled graph per
// batch shape sharing the weight tensors); acting runs on attention's plain
// float32 inference path with an incremental decoder. The bi-level trainer
// alternates model steps (Adam, gradient-norm clip) and every AlphaEvery-th
// epoch an alpha step (its own Adam, no clip) on the same loss and batch.
//
// Graph variants for ablations: learned, full, none, random, file; gating on
// or off. Trainer implements marl.Algorithm: Iterate (rollout + PPO update),
// Evaluate (deterministic: argmax, exact graph), Save/Load (bit-exact resume).
package commformer
