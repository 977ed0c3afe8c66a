// Package loops32 holds the float32 inner loops of the attention core (dot
// products, axpy and the relation-aware gradient update) as SSE assembly on
// amd64. Each routine performs the same float32 operations in the same
// order as the plain Go loop it replaces (documented per function), so the
// results are bit for bit those of the Go code: the elementwise ones round
// every product and sum exactly as the scalar code does, and the dot
// products keep the scalar code's four accumulators, one per SSE lane
// (lane m sums the elements i with i mod 4 == m, in increasing i), and add
// them as (s0 + s1) + (s2 + s3). No FMA: the scalar code rounds the product
// before the sum.
package loops32

// Dot returns the dot product of a and b[:len(a)], summed as
//
//	s[i%4] += a[i]*b[i] for i < len(a)&^3, then s[0] += a[i]*b[i] for the
//	rest, and (s[0]+s[1]) + (s[2]+s[3]).
func Dot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	n4 := n &^ 3
	var s [4]float32
	if n4 > 0 {
		dot4(&a[0], &b[0], n4, &s)
	}
	for i := n4; i < n; i++ {
		s[0] += a[i] * b[i]
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// DotRel returns (q + ra) . (k + rb) over len(q) elements, summed as Dot.
func DotRel(q, ra, k, rb []float32) float32 {
	n := len(q)
	ra, k, rb = ra[:n], k[:n], rb[:n]
	n4 := n &^ 3
	var s [4]float32
	if n4 > 0 {
		dotRel4(&q[0], &ra[0], &k[0], &rb[0], n4, &s)
	}
	for i := n4; i < n; i++ {
		s[0] += (q[i] + ra[i]) * (k[i] + rb[i])
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// Axpy adds a*x[i] to y[i] for i < len(x).
func Axpy(a float32, x, y []float32) {
	n := len(x)
	y = y[:n]
	n4 := n &^ 3
	if n4 > 0 {
		axpyN(a, &x[0], &y[0], n4)
	}
	for i := n4; i < n; i++ {
		y[i] += a * x[i]
	}
}

// RelGrad accumulates the gradients of t*((q+ra).(k+rb)) over len(q)
// elements: kb = t*(k+rb) is added to dq and dra, qa = t*(q+ra) to dk and
// drb.
func RelGrad(t float32, q, ra, k, rb, dq, dk, dra, drb []float32) {
	n := len(q)
	ra, k, rb, dq, dk, dra, drb = ra[:n], k[:n], rb[:n], dq[:n], dk[:n], dra[:n], drb[:n]
	n4 := n &^ 3
	if n4 > 0 {
		relGradN(t, &q[0], &ra[0], &k[0], &rb[0], &dq[0], &dk[0], &dra[0], &drb[0], n4)
	}
	for i := n4; i < n; i++ {
		// The conversions forbid fusing the product into the sums (the
		// assembly rounds it first).
		kb := float32(t * float32(k[i]+rb[i]))
		qa := float32(t * float32(q[i]+ra[i]))
		dq[i] += kb
		dra[i] += kb
		dk[i] += qa
		drb[i] += qa
	}
}

// RelGradPair does half of RelGrad: kb = t*(k+rb) is added to dx and qa =
// t*(q+ra) to dy, with RelGrad's operations. RelGradPair(t, q, ra, k, rb,
// dq, dk) followed by RelGradPair(t, q, ra, k, rb, dra, drb) leaves every
// output with the bits of one RelGrad(t, q, ra, k, rb, dq, dk, dra, drb),
// so a caller may apply the two halves at different times (the parallel
// attention backward).
func RelGradPair(t float32, q, ra, k, rb, dx, dy []float32) {
	n := len(q)
	ra, k, rb, dx, dy = ra[:n], k[:n], rb[:n], dx[:n], dy[:n]
	n4 := n &^ 3
	if n4 > 0 {
		relGradPair4(t, &q[0], &ra[0], &k[0], &rb[0], &dx[0], &dy[0], n4)
	}
	for i := n4; i < n; i++ {
		kb := float32(t * float32(k[i]+rb[i]))
		qa := float32(t * float32(q[i]+ra[i]))
		dx[i] += kb
		dy[i] += qa
	}
}
