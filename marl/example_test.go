package marl_test

import (
	"fmt"

	"github.com/commgraph/commgraph/marl"
)

// GAE on one environment, one agent and three steps, the middle one ending
// the episode: the advantage chain is cut there and nothing is bootstrapped
// across it.
func ExampleBuffer_ComputeGAE() {
	b, err := marl.NewBuffer(1, 3, 1, []int{2})
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(b.Rewards, []float32{1, 1, 1})
	copy(b.Values, []float32{0, 0, 0})
	b.Terminated[1] = true
	b.LastValues[0] = 10
	b.ComputeGAE(0.5, 1, nil)
	fmt.Println(b.Advantages)
	// Output: [1.5 1 6]
}
