package par

import (
	"sync"
	"sync/atomic"
	"testing"
)

type countTask struct {
	hits []atomic.Int32
	n    atomic.Int32
}

func (c *countTask) Part(p, n int) {
	c.hits[p].Add(1)
	c.n.Store(int32(n))
}

// TestRunCallsEveryPartOnce: every part runs exactly once with the right
// count, also with several callers at once sharing the pool, and Run does
// not allocate.
func TestRunCallsEveryPartOnce(t *testing.T) {
	var outer sync.WaitGroup
	for c := 0; c < 4; c++ {
		outer.Add(1)
		go func() {
			defer outer.Done()
			var wg sync.WaitGroup
			for _, n := range []int{1, 2, 3, 7, 16} {
				ct := &countTask{hits: make([]atomic.Int32, n)}
				for rep := 0; rep < 50; rep++ {
					Run(n, ct, &wg)
				}
				for p := range ct.hits {
					if got := ct.hits[p].Load(); got != 50 {
						t.Errorf("n = %d: part %d ran %d times in 50 runs", n, p, got)
					}
				}
				if ct.n.Load() != int32(n) {
					t.Errorf("parts saw n = %d, want %d", ct.n.Load(), n)
				}
			}
		}()
	}
	outer.Wait()
	ct := &countTask{hits: make([]atomic.Int32, 3)}
	var wg sync.WaitGroup
	if a := testing.AllocsPerRun(100, func() { Run(3, ct, &wg) }); a != 0 {
		t.Errorf("Run allocates %v times per call", a)
	}
}

func TestRange(t *testing.T) {
	for _, total := range []int{0, 1, 5, 40, 256} {
		for _, n := range []int{1, 2, 3, 7} {
			next := 0
			for p := 0; p < n; p++ {
				lo, hi := Range(p, n, total)
				if lo != next || hi < lo || hi-lo > total/n+1 {
					t.Fatalf("total %d, n %d: part %d = [%d, %d)", total, n, p, lo, hi)
				}
				next = hi
			}
			if next != total {
				t.Fatalf("total %d, n %d: parts end at %d", total, n, next)
			}
		}
	}
}
