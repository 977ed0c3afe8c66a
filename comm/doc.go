// Package comm owns the communication graph of commgraph: the alpha logits
// (rows = receivers, columns = senders), Gumbel top-k straight-through
// sampling and exact top-k, the per-agent temporal gate, receive-rate and
// message accounting, and the export of graph snapshots to DOT, GraphML,
// JSON and PNG heatmaps. It knows nothing about environments.
package comm
