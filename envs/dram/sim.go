package dram

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// This file holds the simulator's public face (Simulator, Result, Run),
// the run state with its parts, and the event loop. The parts live next to
// the code that uses them: timing.go (the DDR3 timing checker),
// scheduler.go (bank machines, schedulers and request buffers),
// controller.go (command selection, command issue and the response queue),
// arbiter.go (trace player and arbiter), refresh.go (all-bank refresh) and
// energy.go (the DRAMPower energy model and the Result).

// Result is the outcome of one simulation, in the units the reference prints.
type Result struct {
	TimeNS        float64 // makespan: the last response reaches the trace player
	EnergyPJ      float64 // total DRAM energy over the DIMM
	PowerMW       float64 // average power over the energy window
	BandwidthGbps float64 // bytes moved / makespan, in Gbit/s
	NAct, NPre    int64   // activates; precharges (PREA counts once per open bank; RDA/WRA count one)
	NRd, NWr      int64   // column reads and writes (RDA/WRA included)
	NRef          int64   // all-bank refreshes
	Requests      int     // requests simulated
	Cycles        int64   // makespan in memory clock cycles
	WindowCycles  int64   // energy window in memory clock cycles
	ActiveCycles  int64   // cycles of the window with at least one bank open
}

// Simulator runs traces on one memory system. It owns all mutable state
// and reuses it between runs, so the steady state allocates nothing: use
// one Simulator per goroutine.
type Simulator struct {
	spec *MemSpec
	am   *AddressMapping
	// PlayerClockMHz is the trace player clock (default 800 MHz).
	PlayerClockMHz float64
	// RecordRequests makes Run record every request's latency for
	// RequestStats (reqstats.go); off, the run costs what it did without.
	RecordRequests bool
	rec            reqRecorder

	eventResponses bool // tests: simulate Simple-arbiter responses event by event
	skipSpecCheck  bool // tests: run a memspec that check rejects (the watchdog test)
	fullSteps      bool // tests: simulate every event by a full step (no lean path)
	noOpenLean     bool // tests: the open-page designs take lean, not leanOpen
	st             state
}

// NewSimulator returns a simulator for the given memspec and address
// mapping. A nil spec selects the embedded DDR3-1600 device, a nil mapping
// the embedded mapping of the device's standard (DefaultMapping).
func NewSimulator(spec *MemSpec, am *AddressMapping) *Simulator {
	if spec == nil {
		spec = defaultMemSpec()
	}
	if am == nil {
		am = DefaultMapping(spec)
	}
	return &Simulator{spec: spec, am: am, PlayerClockMHz: 800}
}

// Run simulates trace t under configuration cfg. The decoded trace is
// cached between runs, so t must not be modified after its first Run (make
// a new Trace instead); t itself is only read and may be shared by many
// Simulators.
func (s *Simulator) Run(t *Trace, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if !s.skipSpecCheck {
		if err := s.spec.check(); err != nil {
			return Result{}, fmt.Errorf("dram: memspec %s: %w", s.spec.ID, err)
		}
	}
	if err := checkMapping(s.spec, s.am); err != nil {
		return Result{}, fmt.Errorf("dram: %w", err)
	}
	if t == nil || len(t.Requests) == 0 {
		return Result{}, errors.New("dram: empty trace")
	}
	if len(t.Requests) >= math.MaxInt32-1 {
		return Result{}, errors.New("dram: trace too long")
	}
	if !(s.PlayerClockMHz >= 1 && s.PlayerClockMHz <= 1e6) {
		return Result{}, fmt.Errorf("dram: player clock %v MHz out of range [1, 1e6]", s.PlayerClockMHz)
	}
	if t.Relative {
		var sum uint64
		for i := range t.Requests {
			sum += t.Requests[i].Cycle
			if sum > maxCycle {
				return Result{}, fmt.Errorf("dram: trace %s: relative timestamps add up to more than %d cycles", t.Name, uint64(maxCycle))
			}
		}
	}
	st := &s.st
	st.reset(s, t, cfg)
	if err := st.run(); err != nil {
		return Result{}, fmt.Errorf("dram: trace %s, config %s: %w", t.Name, cfg, err)
	}
	return st.result(), nil
}

// state is all mutable state of one run, in parts named after the pieces
// of the reference they model. Times are memory clock cycles unless a name
// says otherwise; inf marks "no such event scheduled".
type state struct {
	t   timing       // constants derived from the memspec
	cfg policy       // the knob values of the run
	tr  decodedTrace // the trace, decoded once and cached between runs

	fullSteps bool     // Simulator.fullSteps
	serial    bool     // a serial design: serialLean replaces lean (serial.go)
	open      bool     // an open-page design (not serial): leanOpen replaces lean (openlean.go)
	serialA   cmdKind  // serial designs: 1 if the column command after an activate auto-precharges, else 0
	now       int64    // the cycle being simulated
	blockedAt int64    // LPDDR4: the last evaluation at this cycle held back a ready command
	ctrlNext  int64    // next cycle at which the controller itself has work
	watchdog  watchdog // turns a run that stops serving requests into an error

	player   playerState   // trace player (arbiter.go)
	arb      arbiterState  // arbiter between player and controller (arbiter.go)
	front    frontEnd      // controller front end (scheduler.go, controller.go)
	resp     responseQueue // controller response queue (controller.go)
	banks    []bank        // bank machines with their scheduler queues (scheduler.go): bankArr[:number of banks]
	bankArr  [64]bank      // their storage; hot paths index it with i&63 (no bounds check)
	machines bankSet       // which bank machines need attention (scheduler.go)
	check    rankChecker   // rank-level timing checker (timing.go)
	ref      refreshState  // all-bank refresh manager (refresh.go)
	energy   energyState   // DRAMPower's counters (energy.go)
	rq       *reqRecorder  // request latencies (reqstats.go); nil unless recorded

	// The command selection prepared by nextEvent for the next controller
	// evaluation (prepareSelection; LPDDR4 prepareByEnd): valid while gen,
	// bumped by every issue and bank machine restart, still equals sel.gen.
	gen uint64
	sel struct {
		gen uint64
		at  int64 // the controller's next cycle: max(earliest ready time, busFree)
		key int64 // the "Oldest" choice among the banks ready at `at` (request<<8 | bank)
		// LPDDR4 (selection by end time, prepareByEnd): key is the winner
		// at `at`, and blocked says it is not ready then, so the
		// evaluation at `at` issues nothing and only sets blockedAt.
		blocked bool
	}
	rdy    [64]int64 // scratch: ready time per pending bank
	rdyLen [64]int64 // scratch (LPDDR4): command length per pending bank
}

// policy is the configuration of one run as typed knob values.
type policy struct {
	page         PagePolicy
	sched        Scheduler
	buffer       SchedulerBuffer
	bufferSize   int
	respQueue    RespQueue
	refresh      bool // RefreshPolicy=AllBank
	maxPostponed int
	maxPulledIn  int
	arbiter      Arbiter
	maxActive    int  // MaxActiveTransactions
	respAhead    bool // Simple arbiter: responses computed at their column command (simpleResponses)
	keepOnAccept bool // Fifo or FrFcfs with the Open or Closed page policy (manageRequests)
}

func newPolicy(cfg Config, eventResponses bool) policy {
	return policy{
		page:         cfg.PagePolicy(),
		sched:        cfg.Scheduler(),
		buffer:       cfg.SchedulerBuffer(),
		bufferSize:   cfg.bufferSize(),
		respQueue:    cfg.RespQueue(),
		refresh:      cfg.RefreshPolicy() == RefreshAllBank,
		maxPostponed: cfg.maxPostponed(),
		maxPulledIn:  cfg.maxPulledIn(),
		arbiter:      cfg.Arbiter(),
		maxActive:    cfg.maxActive(),
		respAhead:    cfg.Arbiter() == ArbSimple && !eventResponses,
		keepOnAccept: (cfg.Scheduler() == SchedFifo || cfg.Scheduler() == SchedFrFcfs) &&
			(cfg.PagePolicy() == PageOpen || cfg.PagePolicy() == PageClosed),
	}
}

// decodedTrace is the trace in the form the simulator reads, with the
// clocks and burst size of the memory system.
type decodedTrace struct {
	req   []reqInfo
	stamp []uint64 // trace timestamps (player cycles)
	// nextSame[r] is the next request after r to the same bank and row
	// (-1: none). Under Fifo and FrFcfs the requests to one row are served
	// in arrival order, so the buffered ones form a run of this chain.
	nextSame []int32
	relative bool // .rstl: stamps are delays
	whole    bool // player and memory clocks equal and stamps absolute: arrivals in whole cycles (simpleNext)
	n        int  // number of requests

	src   *Trace // the trace req and stamp hold
	srcN  int
	srcAM *AddressMapping

	tckPS      int64 // memory clock period in ps
	playerPS   int64 // player clock period in ps
	burstBytes int   // bytes per column command on the DIMM
}

// decode fills req and stamp from tr unless they already hold it.
func (d *decodedTrace) decode(tr *Trace, am *AddressMapping, nBanks int) {
	n := len(tr.Requests)
	d.n = n
	if cap(d.req) < n {
		d.req = make([]reqInfo, n)
		d.stamp = make([]uint64, n)
		d.nextSame = make([]int32, n)
	}
	d.req, d.stamp, d.nextSame = d.req[:n], d.stamp[:n], d.nextSame[:n]
	if d.src == tr && d.srcN == n && d.srcAM == am {
		return
	}
	// Decode once per trace; a Trace must not change after its first Run.
	for i := range tr.Requests {
		r := &tr.Requests[i]
		b, row := am.decode(r.Addr)
		d.req[i] = reqInfo{addr: r.Addr, row: row, bank: uint8(int(b) % nBanks), write: r.Write}
		d.stamp[i] = r.Cycle
	}
	last := make(map[uint64]int32)
	for i := n - 1; i >= 0; i-- {
		k := uint64(d.req[i].bank)<<32 | uint64(d.req[i].row)
		d.nextSame[i] = -1
		if j, ok := last[k]; ok {
			d.nextSame[i] = j
		}
		last[k] = int32(i)
	}
	d.src, d.srcN, d.srcAM = tr, n, am
}

func (st *state) reset(s *Simulator, tr *Trace, cfg Config) {
	m := s.spec
	st.t = newTiming(m)
	nb := m.Banks
	st.tr.decode(tr, s.am, nb)
	st.tr.relative = tr.Relative
	st.tr.burstBytes = m.bytesPerBurst()
	st.tr.tckPS = int64(math.Round(1e6 / m.ClockMHz))
	st.tr.playerPS = int64(math.Round(1e6 / s.PlayerClockMHz))
	st.tr.whole = st.tr.playerPS == st.tr.tckPS && !st.tr.relative

	st.cfg = newPolicy(cfg, s.eventResponses)
	if !st.cfg.refresh {
		st.t.fillAffects(false)
	}

	st.now, st.blockedAt = 0, never
	st.fullSteps = s.fullSteps
	st.serial = st.cfg.bufferSize == 1 && !st.cfg.refresh && st.cfg.respAhead && st.t.colAffOK
	st.open = !st.serial && st.cfg.openDesign() && !s.noOpenLean
	st.serialA = 0
	if st.cfg.page == PageClosed || st.cfg.page == PageClosedAdaptive {
		st.serialA = 1
	}
	st.player.reset()
	st.arb.reset(st.tr.n)
	st.front.reset()
	st.resp.reset(st.tr.n, st.cfg.respQueue == RespReorder)
	st.resetBanks(nb, st.t.banksPerGroup)
	st.check.reset(st.t.groups)
	st.ref.reset(st.cfg.refresh, st.t.REFI)
	st.energy.reset()

	st.gen, st.sel.gen = 1, 0
	st.watchdog = watchdog{limit: st.t.stallLimit(), at: st.t.stallLimit()}
	st.ctrlNext = 0
	st.rq = s.recorder(st.tr.n)
	// First request: sent at its timestamp.
	st.scheduleNextArrival(0, true)
}

// run advances from event to event until the last response has reached
// the player.
func (st *state) run() error {
	st.now = min(st.player.arriveAt, st.front.incomingAt)
	issued := false // the last cycle was simulated by commands, not step
	for {
		if !issued {
			st.step(st.now)
		}
		issued = false
		if st.player.received >= st.tr.n && st.now >= st.player.lastResp {
			return nil
		}
		nx := st.nextEvent()
		if st.player.received >= st.tr.n {
			// Responses computed ahead (Simple arbiter): run on to the last one.
			nx = min(nx, st.player.lastResp)
		}
		if nx > st.watchdog.at { // rare: at most once per watchdog period, and on a deadlock
			if nx >= inf {
				return fmt.Errorf("deadlock at cycle %d (%d of %d responses)", st.now, st.player.received, st.tr.n)
			}
			if err := st.checkProgress(); err != nil {
				return err
			}
		}
		if nx <= st.now {
			nx = st.now + 1
		}
		if (nx == st.leanCommandAt() || nx == st.leanArrivalAt()) && !st.fullSteps {
			// The next event is a command of the controller or a request
			// it takes: if nothing else happens until then, simulate it
			// (and what follows) without full steps.
			if rest := st.otherEvents(); nx < rest && st.leanPath(rest) {
				issued = true
				continue
			}
		}
		st.now = nx
	}
}

// leanPath runs the lean path of the design (serialLean, leanOpen or
// lean) up to rest and reports whether it simulated any cycle.
func (st *state) leanPath(rest int64) bool {
	switch {
	case st.serial:
		return st.serialLean(rest)
	case st.open:
		return st.leanOpen(rest)
	}
	return st.lean(rest)
}

// watchdog watches simulated progress. While requests wait in the
// scheduler buffer, a request must be accepted or a column command issue
// within every period of limit cycles; the buffer is finite, so a run that
// only accepts requests soon stops doing so. It is checked only when the
// simulation is about to pass `at`, which keeps it off the hot path.
type watchdog struct {
	limit   int64 // cycles; see timing.stallLimit
	at      int64 // end of the current period
	columns int64 // column commands at the start of the period
	entered int64 // requests accepted at the start of the period
}

// checkProgress ends a watchdog period at st.now: an error if requests
// waited through it without progress, else the start of the next period.
func (st *state) checkProgress() error {
	w := &st.watchdog
	buffered := int64(st.front.nRead + st.front.nWrite)
	columns := st.energy.nRd + st.energy.nWr
	entered := columns + buffered // every accepted request is buffered or has had its column command
	if buffered > 0 && columns == w.columns && entered == w.entered {
		return fmt.Errorf("no progress: no request accepted and no column command in %d cycles (cycle %d) with %d requests buffered "+
			"and %d of %d responses; the device timings (REFI %d, RFC %d) leave no time to serve them",
			st.now-(w.at-w.limit), st.now, buffered, st.player.received, st.tr.n, st.t.REFI, st.t.RFC)
	}
	w.columns, w.entered, w.at = columns, entered, st.now+w.limit
	return nil
}

// step processes everything that happens at cycle T. The controller's
// timed evaluation comes first; then, as in the reference's SystemC delta
// cycles, requests reaching the arbiter at T and responses travelling back
// are delivered, and the controller is evaluated again after each batch
// (it can still issue a command at T if none went out yet).
func (st *state) step(T int64) {
	if st.ctrlNext <= T {
		st.controllerRun(T)
	}
	st.deliver(T)
}

// deliver is the second half of step: the deliveries at T, each followed
// by an evaluation of the controller. It reports whether it evaluated the
// controller.
func (st *state) deliver(T int64) bool {
	evaluated := false
	for range 64 {
		did := false
		f := &st.front
		if f.incomingHidden && f.incoming >= 0 && f.incomingAt == T {
			f.incomingHidden = false
			did = f.space
		}
		if st.player.arriveAt == T {
			st.player.arriveAt = inf
			st.arbArrive(T, st.player.arriving)
			did = true
		}
		if f.toArbAt == T {
			f.toArbAt = inf
			st.arbBeginResp(T, f.toArb)
			did = true
		}
		if st.arb.toPlayerAt == T {
			st.arb.toPlayerAt = inf
			st.playerResp(T, st.arb.toPlayer)
			did = true
		}
		if !did {
			return evaluated
		}
		st.controllerRun(T)
		evaluated = true
	}
	return evaluated
}

// prepareSelection prepares the command selection at the controller's
// next cycle, max(earliest ready time, busFree) (controllerRun and lean
// use it if nothing changes until then), and returns the earliest ready
// time of the pending banks or (preparePacked) that cycle; nextEvent
// takes it at most busFree later. One rank without bank groups takes
// preparePacked, commands of different lengths (LPDDR4) prepareByEnd.
func (st *state) prepareSelection() int64 {
	if bf := st.check.busFree; st.t.packOK && bf >= 0 {
		return st.preparePacked(bf)
	}
	return st.prepareOther()
}

// prepareOther is prepareSelection where preparePacked does not apply.
func (st *state) prepareOther() int64 {
	if st.t.varLen {
		return st.prepareByEnd()
	}
	if m := st.machines.pending; m&(m-1) == 0 { // one bank (the serial case)
		i := bits.TrailingZeros64(m) & 63
		b := &st.bankArr[i]
		r := st.ready(b)
		st.sel.gen, st.sel.at, st.sel.key = st.gen, max(r, st.check.busFree), int64(b.cur)<<8|int64(i)
		return r
	}
	bm := inf
	if st.t.groups > 1 {
		for m := st.machines.pending; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m) & 63
			r := st.ready(&st.bankArr[i])
			st.rdy[i] = r
			bm = min(bm, r)
		}
	} else {
		// ready without bank groups
		e := &st.check.earliest
		for m := st.machines.pending; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m) & 63
			b := &st.bankArr[i]
			r := max(b.local, e[b.cmd])
			st.rdy[i] = r
			bm = min(bm, r)
		}
	}
	at := max(bm, st.check.busFree)
	best := int64(math.MaxInt64)
	for m := st.machines.pending; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m) & 63
		if st.rdy[i] <= at {
			best = min(best, int64(st.bankArr[i].cur)<<8|int64(i))
		}
	}
	st.sel.gen, st.sel.at, st.sel.key = st.gen, at, best
	return bm
}

// packShift places a pending bank's wait past busFree above its "Oldest"
// key (request<<8 | bank, below 2^40) in one comparable value.
const packShift = 40

// packWait: with every timing gap below it, a pending bank's ready time is
// less than packWait cycles past busFree (see timing.packOK).
const packWait = 1 << 22

// packedKey is bank b's command (bank i) for the selection with the
// command bus free from bf: its wait past bf (0 if ready by then) above
// its "Oldest" key, so that the smallest value over the pending banks is
// the selection's winner and its wait that of the selection's cycle.
func packedKey(b *bank, e *[256]int64, bf int64) int64 {
	r := max(b.local, e[b.cmd], bf)
	return (r-bf)<<packShift | b.key
}

// preparePacked is prepareSelection on one rank without bank groups, in
// one pass: the selection's cycle is max(earliest ready time, bf), which
// is the least of max(ready, bf) over the pending banks, and its winner
// the lowest key among the banks ready then, which are those whose
// max(ready, bf) is that cycle; so the least packedKey gives both. It
// returns the selection's cycle (nextEvent takes it at most busFree
// later, which it is not). bf is busFree, at least 0: every ready time
// then lies below bf + packWait (timing.packOK).
func (st *state) preparePacked(bf int64) int64 {
	e := &st.check.earliest
	var best int64
	if m := st.machines.pending; m == 0xff {
		// Eight banks, all pending (the common case of deep buffers).
		a := &st.bankArr
		best = min(packedKey(&a[0], e, bf), packedKey(&a[1], e, bf),
			packedKey(&a[2], e, bf), packedKey(&a[3], e, bf))
		// This store (overwritten below) orders the loads of the other
		// four banks after it: with all sixteen loads first, the compiler
		// spills half of them to the stack.
		st.sel.key = best
		best = min(best, packedKey(&a[4], e, bf), packedKey(&a[5], e, bf),
			packedKey(&a[6], e, bf), packedKey(&a[7], e, bf))
	} else if m1 := m & (m - 1); m1 == 0 {
		best = packedKey(&st.bankArr[bits.TrailingZeros64(m)&63], e, bf)
	} else if m1&(m1-1) == 0 {
		// Two banks.
		best = min(packedKey(&st.bankArr[bits.TrailingZeros64(m)&63], e, bf),
			packedKey(&st.bankArr[bits.TrailingZeros64(m1)&63], e, bf))
	} else {
		best = math.MaxInt64
		for ; m != 0; m &= m - 1 {
			best = min(best, packedKey(&st.bankArr[bits.TrailingZeros64(m)&63], e, bf))
		}
	}
	at := bf + best>>packShift
	st.sel.gen, st.sel.at, st.sel.key = st.gen, at, best&(1<<packShift-1)
	return at
}

// prepareByEnd is prepareSelection for commands of different lengths
// (LPDDR4): the controller's next evaluation is at max(bm, busFree), where
// bm is the earliest ready time of the pending banks, leaving out those
// ready by now if the evaluation at now held them back (see selectByEnd);
// the selection there is selectByEnd's, which ranks every pending bank,
// held back or not. It returns bm.
func (st *state) prepareByEnd() int64 {
	T, bf := st.now, st.check.busFree
	bm := inf
	held := st.blockedAt == T && bf <= T
	e := &st.check.earliest
	// The first pass ranks the banks as if the evaluation were at busFree,
	// which it is unless every bank becomes ready later (bm > busFree).
	bestEnd, best := int64(math.MaxInt64), int64(math.MaxInt64)
	for m := st.machines.pending; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m) & 63
		b := &st.bankArr[i]
		r := max(b.local, e[b.cmd]) // ready (LPDDR4 has no bank groups)
		l := st.t.cmdLen[b.cmd&15]
		st.rdy[i] = r
		st.rdyLen[i] = l
		if !held || r > T {
			bm = min(bm, r)
		}
		if end := max(r, bf) + l; end <= bestEnd {
			if key := int64(b.cur)<<8 | int64(i); end < bestEnd || key < best {
				bestEnd, best = end, key
			}
		}
	}
	at := max(bm, bf)
	if at != bf {
		bestEnd, best = int64(math.MaxInt64), int64(math.MaxInt64)
		for m := st.machines.pending; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m) & 63
			end := max(st.rdy[i], at) + st.rdyLen[i]
			if end <= bestEnd {
				if key := int64(st.bankArr[i].cur)<<8 | int64(i); end < bestEnd || key < best {
					bestEnd, best = end, key
				}
			}
		}
	}
	st.sel.gen, st.sel.at, st.sel.key, st.sel.blocked = st.gen, at, best, st.rdy[best&63] > at
	return bm
}

// otherEvents is a lower bound on the next cycle after now at which
// anything can happen but a command of the controller or the arrival of a
// request it can take through the Simple arbiter: other arrivals and
// deliveries between controller, arbiter and player, responses becoming
// ready, the refresh manager, the watchdog and the end of the run. (Times
// at or before now make it no bound at all.) Issuing a command other than
// a column command, and accepting a request, change none of them.
func (st *state) otherEvents() int64 {
	f := &st.front
	r := min(st.watchdog.at, st.player.arriveAt, f.toArbAt, st.arb.toPlayerAt)
	if st.player.received >= st.tr.n {
		r = min(r, st.player.lastResp)
	}
	// A request the controller sees arrive (Fifo, Reorder arbiters) and
	// takes. (Without space, an arrival hidden from the controller only
	// clears its flag, which nothing reads once its cycle has passed.)
	if f.incoming >= 0 && f.space && !f.incomingHidden {
		r = min(r, f.incomingAt)
	}
	if st.cfg.refresh {
		if st.ref.cmd != cNOP {
			return never
		}
		r = min(r, st.ref.due)
	}
	if !st.cfg.respAhead && f.releasing < 0 {
		q := &st.resp
		if st.cfg.respQueue == RespFifo {
			r = min(r, q.frontReady)
		} else if int(q.nextInOrder) < st.tr.n {
			r = min(r, q.ready[q.nextInOrder])
		}
	}
	return r
}

// leanCommandAt is the cycle of the controller's next command as prepared
// by prepareSelection (inf if none is prepared).
func (st *state) leanCommandAt() int64 {
	if st.machines.pending != 0 && st.sel.gen == st.gen && st.sel.key != math.MaxInt64 {
		return st.sel.at
	}
	return inf
}

// leanArrivalAt is the cycle a request arrives through the Simple arbiter
// that the controller will take (inf if none).
func (st *state) leanArrivalAt() int64 {
	f := &st.front
	if f.incomingHidden && f.incoming >= 0 && f.space {
		return f.incomingAt
	}
	return inf
}

// restartSame is startBank after an activate or a precharge (c) on bank
// machine b where it provably keeps its request: the oldest buffered one,
// or under FrFcfs the oldest row hit, which the activate opened. It sets
// the next command (after a precharge an activate; after an activate the
// column command of the Open or Closed page policy) and reports false,
// changing nothing, where that takes startBank's full decision.
func (st *state) restartSame(b *bank, c cmdKind) bool {
	if b.blocked {
		return false
	}
	next := cACT
	if c == cACT {
		if st.cfg.sched == SchedFrFcfsGrp || st.cfg.page == PageOpenAdaptive || st.cfg.page == PageClosedAdaptive {
			return false
		}
		q := &st.tr.req[b.cur]
		next = cRD
		if q.write {
			next = cWR
		}
		if st.cfg.page == PageClosed {
			next++ // cRDA, cWRA
		}
	}
	st.gen++
	b.cmd = next
	b.local = st.bankEarliest(b, next)
	return true
}

// lean simulates the cycles in which nothing happens but the controller's
// evaluations (prepared by prepareSelection: a command, or on LPDDR4 an
// evaluation that holds its ready commands back) and the acceptance of
// requests arriving through the Simple arbiter, while they
// fall before rest (otherEvents): in such a cycle a step would do exactly
// this. A command comes first when both fall in one cycle (the
// controller's timed evaluation precedes the delivery). A column command
// changes the request and response side, so rest is found again after
// one. lean reports whether it simulated any cycle.
func (st *state) lean(rest int64) bool {
	did := false
	for {
		cmdAt, arrAt := st.leanCommandAt(), st.leanArrivalAt()
		c := cNOP // the command issued in this cycle
		if cmdAt <= arrAt {
			T := cmdAt
			if T >= rest {
				return did
			}
			st.now = T
			if st.sel.blocked {
				// LPDDR4: the evaluation at T holds its ready commands back.
				st.blockedAt = T
				st.prepareByEnd()
				did = true
				continue
			}
			i := int(st.sel.key & 0x3f)
			b := &st.bankArr[i]
			c = b.cmd
			st.issue(T, c, i, b.cur)
			if (c == cACT || c == cPRE) && st.machines.dirty == 1<<uint(i) && st.restartSame(b, c) {
				st.machines.dirty = 0
				if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
					st.preparePacked(bf)
				} else {
					st.prepareOther()
				}
				did = true
				continue
			}
		} else {
			T := arrAt
			if T >= rest || T < st.now {
				return did
			}
			// Controller::manageRequests after the delivery, then its
			// command selection (nothing else was ready at T, else it
			// would have been prepared for T, but the new request may be).
			st.now = T
			f := &st.front
			bi := int(st.tr.req[f.incoming].bank) & 63
			b := &st.bankArr[bi]
			// The prepared selection (cmdAt > T) still holds after the
			// acceptance if the request's bank machine was pending and
			// keeps its request, command and time (as it usually does
			// when it has requests buffered already).
			held := st.sel.gen == st.gen && st.machines.pending&(1<<uint(bi)) != 0
			cur, cmd, local := b.cur, b.cmd, b.local
			f.incomingHidden = false
			st.manageRequests(T)
			if held && b.cur == cur && b.cmd == cmd && b.local == local && st.machines.dirty == 0 {
				st.sel.gen = st.gen
				if st.t.varLen && st.check.busFree <= T {
					// The evaluation at T ranks the same commands as the
					// prepared one (none ready at T but those it held back
					// before T, which still lose): it issues nothing.
					st.blockedAt = T
				}
				did = true
				continue
			}
			if st.t.varLen {
				if st.check.busFree <= T {
					c = st.selectByEnd(T)
				}
			} else if st.check.busFree <= T {
				if key := st.readyKey(T); key != math.MaxInt64 {
					i := int(key & 0x3f)
					b := &st.bankArr[i]
					c = b.cmd
					st.issue(T, c, i, b.cur)
				}
			}
		}
		did = true
		for st.machines.dirty != 0 {
			st.startBank(bits.TrailingZeros64(st.machines.dirty))
		}
		if c.isCAS() {
			if st.cfg.respAhead {
				// Simple arbiter, responses computed ahead: of the bounds in
				// otherEvents only the end of the run can move (a request
				// the controller sees waiting is taken at once once there
				// is space; see serialLean).
				if st.player.received >= st.tr.n {
					rest = min(rest, st.player.lastResp)
				}
			} else {
				rest = st.otherEvents()
			}
		}
		if st.machines.pending != 0 {
			if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
				st.preparePacked(bf)
			} else {
				st.prepareOther()
			}
		}
	}
}

// nextEvent returns the next cycle at which anything can change, and
// records in ctrlNext when the controller itself next has work.
func (st *state) nextEvent() int64 {
	T := st.now
	nx := inf
	f := &st.front
	// A pending request the controller can take: seen by the controller
	// itself, or (hidden) delivered to it by the Simple arbiter.
	incomingAt := inf
	if f.incoming >= 0 && f.incomingAt > T && f.space {
		incomingAt = f.incomingAt
	}
	if !f.incomingHidden {
		nx = incomingAt
	}
	if st.machines.pending != 0 {
		// (LPDDR4: ready commands the last evaluation at T held back do not
		// wake the controller; see prepareByEnd.)
		bm := st.prepareSelection()
		nx = min(nx, max(bm, st.check.busFree)) // one command at a time on the bus
	}
	if st.cfg.refresh {
		if st.ref.cmd != cNOP {
			if !(st.ref.at <= T && st.blockedAt == T) {
				nx = min(nx, st.ref.at)
			}
		} else {
			nx = min(nx, st.ref.due)
		}
	}
	if f.releasing < 0 && !st.cfg.respAhead {
		nx = min(nx, st.respTrigger())
	}
	// ctrlNext: the next time the controller has something of its own to
	// do; deliveries to it always trigger an evaluation.
	st.ctrlNext = nx
	if st.player.arriveAt > T {
		nx = min(nx, st.player.arriveAt)
	}
	if f.incomingHidden {
		nx = min(nx, incomingAt)
	}
	if f.toArbAt > T {
		nx = min(nx, f.toArbAt)
	}
	if st.arb.toPlayerAt > T {
		nx = min(nx, st.arb.toPlayerAt)
	}
	return nx
}
