package predprey_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/predprey"
)

func Example() {
	e := predprey.MustNew(predprey.Easy())
	s := e.Spec()
	obs := make([][]float32, len(s.Agents))
	for i := range obs {
		obs[i] = make([]float32, s.Agents[i].ObsSize)
	}
	rew := make([]float32, len(s.Agents))
	_ = e.SetPositions([]predprey.Pos{{Row: 0, Col: 0}, {Row: 4, Col: 4}, {Row: 2, Col: 1}}, predprey.Pos{Row: 2, Col: 2}, obs)
	res := e.Step([]int{predprey.Down, predprey.Up, predprey.Right}, obs, rew)
	fmt.Println(s.Agents[0].ObsSize, rew, res.Done())
	// Output: 261 [-0.05 -0.05 0] false
}
