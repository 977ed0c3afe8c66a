package comm

// Accounting of communication (spec section 3). Gates are stored row-major by
// agent-step: gates[s*n+i] is agent i's gate at step (or sample) s; a value
// > 0.5 counts as "receiving". A nil gate slice means gating off (all ones).

// ReceiveRate is the fraction of agent-steps with g = 1 (1 for nil or empty).
func ReceiveRate(gates []float64) float64 {
	if len(gates) == 0 {
		return 1
	}
	on := 0
	for _, g := range gates {
		if g > 0.5 {
			on++
		}
	}
	return float64(on) / float64(len(gates))
}

// ReceiveRates returns each agent's fraction of steps with g = 1 (gates of
// steps*n values; nil means all ones).
func ReceiveRates(gates []float64, n int) []float64 {
	out := make([]float64, n)
	if len(gates) == 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	steps := len(gates) / n
	for s := 0; s < steps; s++ {
		for i := 0; i < n; i++ {
			if gates[s*n+i] > 0.5 {
				out[i]++
			}
		}
	}
	for i := range out {
		out[i] /= float64(steps)
	}
	return out
}

// MessagesPerStep is the number of active off-diagonal edges of the
// effective mask (sum over i != j of g_i * 1[A_ij != 0]), averaged over the
// steps in gates (steps*n values; nil means gating off: the count of
// off-diagonal edges of adj).
func MessagesPerStep(adj, gates []float64, n int) float64 {
	in := make([]float64, n) // off-diagonal in-degree of each receiver
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j && adj[i*n+j] != 0 {
				in[i]++
			}
		}
	}
	if len(gates) == 0 {
		t := 0.0
		for _, v := range in {
			t += v
		}
		return t
	}
	steps := len(gates) / n
	if steps == 0 {
		return 0
	}
	t := 0.0
	for s := 0; s < steps; s++ {
		for i := 0; i < n; i++ {
			if gates[s*n+i] > 0.5 {
				t += in[i]
			}
		}
	}
	return t / float64(steps)
}
