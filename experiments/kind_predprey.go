package experiments

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/predprey"
)

// Predator-prey and predator-capture-prey: [env.predprey] and
// [env.capture] are predprey.Config, from the easy and capture presets.
func init() {
	easy, capture := predprey.Easy(), predprey.CaptureEasy()
	easy.Name, capture.Name = "", ""
	RegisterEnv("predprey", easy, buildPredPrey)
	RegisterEnv("capture", capture, buildPredPrey)
}

// buildPredPrey labels a preset by its name (predprey-easy, ...,
// predator-capture-prey) and anything else by its sizes. Its learning
// target (issue 4: mean evaluation steps to finish below 10 on the easy
// preset, cap 20) is half the episode cap.
func buildPredPrey(c predprey.Config, run RunInfo) (*Task, error) {
	label := fmt.Sprintf("predprey-%dx%d-n%d-v%d", c.Dim, c.Dim, c.Predators+c.Capturers, c.Vision)
	for _, name := range predprey.PresetNames() {
		p, _ := predprey.Preset(name)
		spec := p.Name
		if p.Name = ""; p == c {
			c.Name, label = spec, "predprey-"+name
			if name == "capture" {
				label = "predator-capture-prey"
			}
			break
		}
	}
	env, err := predprey.New(c)
	if err != nil {
		return nil, err
	}
	return &Task{Label: label, Env: env, Threshold: float64(c.MaxSteps) / 2,
		Primary: Primary{Name: "eval_length", HigherIsBetter: false, X: "env_steps"}}, nil
}
