// Package comm owns the communication graph of commgraph: the alpha logits
// (rows = receivers, columns = senders), Gumbel top-k straight-through
// sampling and exact top-k, the per-agent temporal gate, receive-rate and
// message accounting, and the export of graph snapshots to JSON, DOT,
// GraphML, PNG heatmaps and SVG. It knows nothing about environments.
//
// Method: Hu, Shen, Zhang, Tao, "Learning Multi-Agent Communication from
// Graph Modeling Perspective", ICLR 2024 (arXiv 2405.08550), and its
// extension with a temporal gate (arXiv 2411.00382). Gumbel top-k: Kool et
// al. 2019 / Xie & Ermon 2019; straight-through estimator: Bengio et al.
// 2013; binary concrete: Maddison et al. 2017, Jang et al. 2017.
//
// # The graph
//
// NewGraph creates, for the learned variant, an N x N parameter alpha
// initialised to ones. Each receiver hears itself and k = max(floor((N-1)*S),
// 1) other agents (GraphConfig.Senders sets k directly). Decisions:
//
//   - Diagonal: self-loops are always on and use none of the k slots: the
//     top-k runs over a row's N-1 off-diagonal entries and A_ii = 1. (The
//     reference cformer.py lets the diagonal compete, so a receiver there
//     hears k or k-1 others, with k = 1 possibly nobody.)
//   - Ties: a fixed random priority per entry, drawn from the seeded stream
//     (GraphConfig.Seed), decides among equal values — never the column index.
//   - Warm-up ("dense, alpha-weighted"): A = alpha itself off the diagonal
//     (forward value the raw logits, gradient identity), as the reference
//     feeds its raw edge parameter to the attention before `warmup`
//     iterations. At initialisation this is dense attention; the attention
//     weights sender j's softmax term by alpha_ij (attention/attncore.go).
//   - Sampling: y = softmax_row((alpha + g)/tau) over the off-diagonal, g ~ Gumbel(0,1) drawn by
//     Adj.Resample from the caller's seeded source, one draw per forward pass
//     shared by the whole batch; forward value = k-hot of the row top-k of y
//     (exactly 0/1), gradient = that of y (A = hard - stopgrad(y) + y).
//   - Exact: k-hot of the row top-k of alpha, gradient of softmax_row(alpha).
//   - Frozen (post_stable after post_ratio): the exact graph, zero gradient.
//
// Graph.Bind puts A [N,N] into a gorgonia graph through one custom op whose
// mode (Adj.SetMode) and noise are read when the tape runs, so one compiled
// graph serves every mode. Fixed variants (full, none, random, file) bind a
// constant input node and have no alpha.
//
// # The gate
//
// Gate is a small MLP (Linear(d,H) -> ReLU -> Linear(H,1); Hidden = 0 gives a
// linear gate, with 32x fewer multiply-adds at d = 64, H = 32) giving receiver i's
// logit l from its observation embedding. Training: z = sigmoid((l + log u -
// log(1-u))/tau_g), u ~ U(0,1) (GateNode.Resample), g = 1[z > 0.5] with the
// straight-through gradient of z. Acting (GateNode.SetActing, and the float32
// Gate.ActF32): g = 1[sigmoid(l) > 0.5]. Gating off: a constant gate of ones.
//
// # Export
//
// A Snapshot (Graph.Snapshot) is a plain record: logits, row-softmax
// probabilities, binary adjacency, receive rates. Exported edges are the
// off-diagonal ones of the binary adjacency, from sender j to receiver i,
// weighted by the probability p_ij; an edge is "gated off" (dashed in DOT)
// when gating was on and the receiver's receive rate is 0 or below
// GatedOffBelow (5%). Every writer writes a temp file
// and renames it, so no partial output is ever left behind.
package comm
