package envs

// DeriveSeed mixes a base seed with a path of integers (purpose, index,
// episode, ...) into a new 64-bit seed. Different paths give statistically
// independent seeds; the same path always gives the same seed. It uses the
// SplitMix64 finaliser (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014) as the mixing function.
func DeriveSeed(base uint64, path ...uint64) uint64 {
	h := splitmix(base ^ 0x6a09e667f3bcc909)
	for i, p := range path {
		// Position-dependent offset so (a, b) and (b, a) differ.
		h = splitmix(h ^ splitmix(p+uint64(i+1)*0x9e3779b97f4a7c15))
	}
	return h
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
