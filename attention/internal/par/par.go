// Package par runs the parts of a split kernel on a small pool of
// goroutines shared by the whole process, without allocating per call.
//
// A kernel splits its work into n parts whose outputs are disjoint and whose
// every output element receives the same floating-point operations, in the
// same order, as in the serial code; the split then changes the speed only,
// never the bits. Run hands parts 1..n-1 to pool goroutines and does part 0
// on the calling goroutine. Parts must not call Run themselves.
package par

import (
	"runtime"
	"sync"
)

// Task is work split into parts: Part(p, n) does part p of n.
type Task interface {
	Part(p, n int)
}

type job struct {
	t    Task
	p, n int
	wg   *sync.WaitGroup
}

// maxWorkers bounds the pool (goroutines live for the process).
const maxWorkers = 256

var (
	mu      sync.Mutex
	started int
	jobs    = make(chan job, maxWorkers)
)

func worker() {
	for j := range jobs {
		j.t.Part(j.p, j.n)
		j.wg.Done()
	}
}

// ensure starts pool goroutines until there are at least k.
func ensure(k int) {
	k = min(k, maxWorkers)
	mu.Lock()
	for started < k {
		started++
		go worker()
	}
	mu.Unlock()
}

// Workers resolves a worker setting: w > 0 as is, else GOMAXPROCS.
func Workers(w int) int {
	if w > 0 {
		return w
	}
	return runtime.GOMAXPROCS(0)
}

// Run calls t.Part(p, n) for every p < n and returns when all have
// returned: part 0 on the caller, the others on pool goroutines. wg is the
// caller's (reused across calls, so Run does not allocate); one wg must not
// serve two Runs at once. n <= 1 runs t.Part(0, 1) directly.
func Run(n int, t Task, wg *sync.WaitGroup) {
	if n <= 1 {
		t.Part(0, 1)
		return
	}
	ensure(n - 1)
	wg.Add(n - 1)
	for p := 1; p < n; p++ {
		jobs <- job{t: t, p: p, n: n, wg: wg}
	}
	t.Part(0, n)
	wg.Wait()
}

// Range returns the bounds [lo, hi) of part p of n over [0, total): parts
// differ in length by at most one.
func Range(p, n, total int) (lo, hi int) {
	return p * total / n, (p + 1) * total / n
}
