package synthetic_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/synthetic"
)

// The planted pairs and their exact interaction variances, which an ANOVA
// over the full factorial must recover.
func Example() {
	s := synthetic.MustNew(synthetic.DRAMLike(1))
	for _, p := range s.Pairs() {
		fmt.Printf("%s x %s: %.2f\n", s.Knobs()[p.A].Name, s.Knobs()[p.B].Name, s.PairVariance(p.A, p.B))
	}
	fmt.Printf("main k3: %.2f, unplanted k3 x k4: %.2f\n", s.MainVariance(3), s.PairVariance(3, 4))
	// Output:
	// k8 x k9: 4.00
	// k0 x k3: 2.25
	// k1 x k2: 0.49
	// main k3: 1.00, unplanted k3 x k4: 0.00
}
