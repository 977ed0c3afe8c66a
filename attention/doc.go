// Package attention owns the neural building blocks of commgraph on gorgonia:
// parameters shared across graphs, linear layers, layer norm, GELU/ReLU,
// graph-masked relation-aware multi-head attention (with a causal variant),
// and the encoder and decoder blocks of CommFormer (Hu et al., ICLR 2024,
// arXiv 2405.08550) / MAT (Wen et al. 2022). It knows nothing about agents'
// meaning, environments or PPO.
//
// # Parameters and graphs
//
// Weights live in Params (plain tensors); a Binder binds them into one
// expression graph. Build one graph per batch shape and share the weights:
// an optimiser updates Param.Value in place and every graph sees the change
// on its next run (TestWeightSharingAcrossGraphs).
//
// Training pass, in order: build the forward graph with the blocks' Forward
// methods; call Binder.Backward(cost, extras...) once (extras are non-Param
// nodes whose gradient you want, e.g. the graph matrix A from package comm);
// compile NewMachine (G.NewTapeMachine made collectable, see there); per
// step: RunAll, read Grads(binder, params) (tensors owned by the machine,
// valid until the next run), Reset().
//
// Buffers: the fused ops keep their output and gradient tensors from run to
// run (allocation and first-touch page faults of fresh multi-megabyte
// tensors cost more than the cheap ops themselves). A value read from a
// node, or a gradient from Grads, is therefore overwritten by the next run
// of the same machine: copy it if it must survive (G.Read copies).
//
// Gorgonia pitfall (tested): after RunAll, node.Value() of an intermediate
// node may hold garbage, because the TapeMachine recycles registers in
// place. To read a forward value (logits, values, the encoder output) attach
// G.Read(node, &v) while building the graph and read v after the run. Cost
// nodes and final outputs are safe; parameters and input tensors are never
// written (TestRunDoesNotWriteParamsOrInputs).
//
// # Speed
//
// Every block is one or a few fused ops with hand-written backward passes
// (linear, bias, layer norm, activations, edge embedding, attention core);
// matrix products go through the BLAS installed by gemm.Use(), which the
// trainer must call once at start-up (gemm.Native, an AVX2/FMA Go-assembly
// kernel, by default; OpenBLAS with -tags openblas). Layer norm, GELU and
// attention keep their forward intermediates for the backward pass. The attention core never materialises [B, N, N, d]
// tensors, and the relation projections are computed once per forward from
// the graph, not per sample.
//
// # Inference
//
// The Infer methods (infer.go) are plain float32 forward functions of the
// same blocks reading the same Param tensors, without autodiff: use them for
// acting. DecoderBlock.Start/DecoderState.Step run the decoder
// incrementally, one agent at a time, with cached keys and values.
package attention
