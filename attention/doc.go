// Package attention owns the neural building blocks of commgraph on gorgonia:
// parameters shared across graphs, linear layers, layer norm, GELU, graph-masked
// relation-aware multi-head attention (with a causal variant), and the encoder
// and decoder blocks. It knows nothing about agents' meaning, environments or
// PPO.
//
// Weights live in Params (plain tensors); a Binder binds them into one
// expression graph. Build one graph per batch shape and share the weights:
// an optimiser updates Param.Value in place and every graph sees the change.
package attention
