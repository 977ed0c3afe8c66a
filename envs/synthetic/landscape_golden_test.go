package synthetic

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// landscapeDigest is a SHA-256 over the bits of y at 512 designs drawn
// from a fixed PCG stream, plus the main-effect variances: any change to
// how a Config turns into a landscape changes it.
func landscapeDigest(t *testing.T, c Config) string {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	r := rand.New(rand.NewPCG(42, 43))
	cfg := make([]int, len(c.Values))
	out := make([]float64, 2)
	var b [8]byte
	for range 512 {
		for i, n := range c.Values {
			cfg[i] = r.IntN(n)
		}
		if err := s.Evaluate(cfg, out); err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(out[0]))
		h.Write(b[:])
	}
	for i := range c.Values {
		v := s.MainVariance(i)
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// TestLandscapesUnchanged pins the landscapes that runs, tests and results
// are built on (the [env.synthetic] default, the planted graphs of the
// recovery studies, DRAMLike, an explicit main scale), bit for bit, as they
// were before Config.NoMainEffects replaced the negative-MainScale sentinel.
func TestLandscapesUnchanged(t *testing.T) {
	planted := func(knobs, values int, seed uint64) Config {
		c, err := Planted(knobs, values, seed)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"env.synthetic default", DefaultEnvConfig().Space(), "02eff223f21c45ee"},
		{"dramlike", DRAMLike(1), "3b729631811580be"},
		{"planted 10x4 seed 1", planted(10, 4, 1), "ece7408862c8095c"},
		{"planted 20x4 seed 3", planted(20, 4, 3), "ce280cd5a44ef0e5"},
		{"planted 40x4 seed 1", planted(40, 4, 1), "1fd2175df8c45ed0"},
		{"main scale 0.8", Config{Values: []int{3, 2, 4, 3, 1}, Pairs: []Pair{{0, 2, 1.3}, {3, 1, -0.5}}, MainScale: 0.8, Seed: 7}, "1ef4f1205aa16679"},
		{"main scale 1 explicit", Config{Values: []int{3, 2, 4, 3, 1}, Pairs: []Pair{{0, 2, 1.3}}, MainScale: 1, Seed: 7}, "13fcdd5dd1329166"},
	} {
		if got := landscapeDigest(t, c.cfg); got != c.want {
			t.Errorf("%s: landscape digest %s, want %s", c.name, got, c.want)
		}
	}
}
