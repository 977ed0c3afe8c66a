package commformer

import (
	"context"
	"testing"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.Embed = 16
	c.Envs = 4
	c.Steps = 8
	c.Epochs = 5
	c.Warmup = 1
	c.Sparsity = 1
	c.Workers = 1
	return c
}

func TestSmoke(t *testing.T) {
	tr, err := New(&signalEnv{Len: 4}, tinyConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		m, err := tr.Iterate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Log(m)
	}
	m, err := tr.Evaluate(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(m)
}
