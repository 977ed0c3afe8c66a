package dram

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

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

	eventResponses bool // tests: simulate Simple-arbiter responses event by event
	st             state
}

// NewSimulator returns a simulator for the given memspec and address
// mapping; nil selects the embedded DDR3-1600 defaults.
func NewSimulator(spec *MemSpec, am *AddressMapping) *Simulator {
	if spec == nil {
		spec = DefaultMemSpec()
	}
	if am == nil {
		am = DefaultAddressMapping()
	}
	return &Simulator{spec: spec, am: am, PlayerClockMHz: 800}
}

// MemSpec returns the simulator's memspec.
func (s *Simulator) MemSpec() *MemSpec { return s.spec }

// Run simulates trace t under configuration cfg. The decoded trace is
// cached between runs, so t must not be modified after its first Run (make
// a new Trace instead); t itself is only read and may be shared by many
// Simulators.
func (s *Simulator) Run(t *Trace, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
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

// Commands of the controller (DRAMSys naming).
type cmdKind uint8

const (
	cNOP cmdKind = iota
	cACT
	cPRE
	cRD
	cRDA
	cWR
	cWRA
	cPREA
	cREFA
	nCmd
)

func (c cmdKind) isCAS() bool { return c >= cRD && c <= cWRA }

const (
	never int64 = math.MinInt64 / 4 // "no such command yet"
	inf   int64 = math.MaxInt64 / 4 // "nothing scheduled"
)

// timing holds the derived timing constants in cycles.
type timing struct {
	RCD, RP, RAS, RC, RRD, FAW, CCD, RTP, RFC, REFI, AL int64
	RL, WL, burst                                       int64
	tRDWR, tWRRD, tWRRDR, tWRPRE                        int64
	rdaPreOff, wraPreOff                                int64 // DRAMPower auto-precharge offsets
	ttcRD, ttcWR                                        int64 // DRAMPower time to completion
	eACT, ePRE, eRD, eWR, eREF, eAct, ePre              float64
	delta                                               [nCmd][nCmd]int64 // see rankDelta
	affects                                             [nCmd][nCmd]rankBound
	nAffects                                            [nCmd]int
	bankGap                                             [nCmd][4]bankBound // see bankRules
}

func newTiming(m *MemSpec) timing {
	tm := m.Timing
	var t timing
	t.RCD, t.RP, t.RAS, t.RC = int64(tm.RCD), int64(tm.RP), int64(tm.RAS), int64(tm.RC)
	t.RRD, t.FAW, t.CCD, t.RTP = int64(tm.RRD), int64(tm.FAW), int64(tm.CCD), int64(tm.RTP)
	t.RFC, t.REFI, t.AL = int64(tm.RFC), int64(tm.REFI), int64(tm.AL)
	t.RL, t.WL = int64(tm.RL), int64(tm.WL)
	t.burst = int64(m.BurstLength / max(m.DataRate, 1))
	// CheckerDDR3 derived constraints.
	t.tRDWR = t.RL + t.burst + 2 - t.WL
	t.tWRRD = t.WL + t.burst + int64(tm.WTR)
	t.tWRRDR = t.WL + t.burst + int64(tm.RTRS) - t.RL
	t.tWRPRE = t.WL + t.burst + int64(tm.WR)
	// DRAMPower (DDR3): auto-precharge offsets and completion times.
	t.rdaPreOff = t.AL + max(t.RTP, 4)
	t.wraPreOff = t.burst + t.WL + int64(tm.WR)
	t.ttcRD = t.RL + 1 + t.burst // DQSCK = 0
	t.ttcWR = t.WL + t.burst + int64(tm.WR)
	// Energies per command for the whole DIMM (pJ): cycles x tCK(ns) x mA x V.
	p := m.Power
	k := float64(m.DevicesOnDIMM) * p.VDD * 1e3 / m.ClockMHz // devices x V x tCK(ns)
	t.eACT = k * float64(tm.RAS) * (p.IDD0 - p.IDD3N)
	t.ePRE = k * float64(tm.RC-tm.RAS) * (p.IDD0 - p.IDD2N)
	t.eRD = k * float64(t.burst) * (p.IDD4R - p.IDD3N)
	t.eWR = k * float64(t.burst) * (p.IDD4W - p.IDD3N)
	t.eREF = k * float64(tm.RFC) * (p.IDD5 - p.IDD3N)
	t.eAct = k * p.IDD3N // background per cycle with a bank open
	t.ePre = k * p.IDD2N // background per cycle with all banks precharged
	t.rankDelta()
	t.bankRules()
	return t
}

// reqInfo is a decoded request.
type reqInfo struct {
	addr  uint64
	row   uint32
	bank  uint8
	write bool
}

// qent is a buffered request with its row (kept inline for fast scans).
type qent struct {
	r   int32
	row uint32
}

// bank is one bank machine plus its scheduler queue and the timing
// checker's per-bank history.
type bank struct {
	queue   []qent // buffered requests in arrival order
	active  bool
	openRow uint32
	blocked bool
	cur     int32 // currentPayload (-1: none)
	cmd     cmdKind
	local   int64 // bank-local earliest time of cmd
	count   int   // Bankwise buffer counter
	hits    int   // buffered requests to the open row (valid while active)
	last    [nCmd]int64
	actTime int64 // for DRAMPower's auto-precharge time
}

const (
	rsRegular = iota
	rsPulledin
)

type state struct {
	t   timing
	req []reqInfo
	// the trace whose requests req and line hold
	decoded    *Trace
	decodedN   int
	decodedAM  *AddressMapping
	line       []uint64 // trace timestamps (player cycles)
	rel        bool
	n          int
	tck        int64 // ps
	burstBytes int
	pclk       int64 // ps

	bufSize, mat       int
	page, sched, bufM  int
	respM, arb         int
	refresh            bool
	aheadResp          bool // responses computed at their column command (simpleResponses)
	maxPost, maxPullIn int

	now      int64
	ctrlNext int64 // next cycle at which the controller itself has work

	// trace player
	nextIdx   int   // next trace line to send
	playerArr int64 // arrival cycle at the arbiter of request nextIdx-1 (inf: none)
	arrReq    int32
	received  int
	lastResp  int64

	// arbiter (Fifo/Reorder)
	active      int
	outstanding int32
	pend        ring // requests waiting for the channel
	chanBusy    bool
	lastEndReq  int64
	lastEndResp int64
	threadBusy  bool
	arbResp     ring   // Fifo: responses waiting for the player
	arbReady    []bool // Reorder: response of request i waiting at the arbiter
	nextReturn  int32  // Reorder: next request index to return
	plRespAt    int64  // arbiter -> player BEGIN_RESP time
	plResp      int32

	// controller front end
	acq       int32
	acqTime   int64
	acqHidden bool // a request reaching the controller at acqTime through
	// the Simple arbiter, not seen by the controller's first evaluation at
	// acqTime (SystemC delta order)
	lastBank   int
	nRead      int
	nWrite     int
	nTotal     int
	relReq     int32 // transToRelease.payload (-1: none)
	relTime    int64 // transToRelease.time
	ctrlRespAt int64 // controller -> arbiter BEGIN_RESP arrival
	ctrlResp   int32
	lastDir    bool // FrFcfsGrp: last column command was a write

	// response queue
	rq      ring    // Fifo: request indices in column-command order
	rqFront int64   // Fifo: ready time of the front of rq (inf when empty)
	ready   []int64 // data-strobe end per request (inf until CAS)
	rqNext  int32   // Reorder: next index to release

	banks    []bank
	dirty    uint64 // banks whose machine must be restarted
	cand     uint64 // banks with a command (cmd != cNOP)
	allBanks uint64
	faw      [4]int64
	fawN     int
	fawI     int
	dep      [nCmd]int64 // rank-level earliest time per command

	// refresh manager
	rState    int
	trig      int64
	flex      int
	activated int
	rCmd      cmdKind
	rTTS      int64

	// energy
	nAct, nPre, nRd, nWr, nRef int64
	lastCmdT                   int64 // last command on the command bus
	lastCmdK                   cmdKind
	lastAutoPre                int64
	// DRAMPower's view of the banks (auto-precharges land later than the
	// RDA/WRA that implies them), for active/precharged background cycles.
	dpOpen             int
	dpFirstAct         int64
	dpLastPre          int64
	dpActCyc, dpPreCyc int64
	autoPre            [64]int64 // pending auto-precharge per bank
	autoPreMask        uint64
}

// ring is a FIFO of request indices that reuses its storage.
type ring struct {
	buf        []int32
	head, size int
}

func (r *ring) reset(capacity int) {
	if cap(r.buf) < capacity {
		r.buf = make([]int32, capacity)
	}
	r.buf = r.buf[:cap(r.buf)]
	r.head, r.size = 0, 0
}
func (r *ring) push(v int32) {
	if r.size == len(r.buf) {
		nb := make([]int32, 2*len(r.buf)+1)
		for i := 0; i < r.size; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}
func (r *ring) front() int32 { return r.buf[r.head] }
func (r *ring) pop() int32 {
	v := r.buf[r.head]
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.size--
	return v
}

func (st *state) reset(s *Simulator, tr *Trace, cfg Config) {
	m := s.spec
	st.t = newTiming(m)
	n := len(tr.Requests)
	st.n = n
	if cap(st.req) < n {
		st.req = make([]reqInfo, n)
		st.line = make([]uint64, n)
		st.ready = make([]int64, n)
		st.arbReady = make([]bool, n)
	}
	st.req, st.line, st.ready, st.arbReady = st.req[:n], st.line[:n], st.ready[:n], st.arbReady[:n]
	nb := m.Banks
	if st.decoded != tr || st.decodedN != n || st.decodedAM != s.am {
		// Decode once per trace; a Trace must not change after its first Run.
		for i := range tr.Requests {
			r := &tr.Requests[i]
			b, row := s.am.Decode(r.Addr)
			st.req[i] = reqInfo{addr: r.Addr, row: row, bank: uint8(int(b) % nb), write: r.Write}
			st.line[i] = r.Cycle
		}
		st.decoded, st.decodedN, st.decodedAM = tr, n, s.am
	}
	for i := range st.ready {
		st.ready[i] = inf
	}
	clear(st.arbReady)
	st.rel = tr.Relative
	st.burstBytes = m.BytesPerBurst()
	st.tck = int64(math.Round(1e6 / m.ClockMHz))
	st.pclk = int64(math.Round(1e6 / s.PlayerClockMHz))

	st.page, st.sched, st.bufM = cfg[KnobPagePolicy], cfg[KnobScheduler], cfg[KnobSchedulerBuffer]
	st.bufSize = cfg.BufferSize()
	st.respM = cfg[KnobRespQueue]
	st.refresh = cfg[KnobRefreshPolicy] == RefreshAllBank
	if !st.refresh {
		st.t.fillAffects(false)
	}
	st.maxPost, st.maxPullIn = cfg.MaxPostponed(), cfg.MaxPulledin()
	st.arb, st.mat = cfg[KnobArbiter], cfg.MaxActive()
	st.aheadResp = st.arb == ArbSimple && !s.eventResponses

	st.now = 0
	st.nextIdx, st.playerArr, st.arrReq, st.received, st.lastResp = 0, inf, -1, 0, 0
	st.active, st.outstanding, st.chanBusy = 0, -1, false
	st.lastEndReq, st.lastEndResp, st.threadBusy = never, never, false
	st.pend.reset(64)
	st.arbResp.reset(64)
	st.nextReturn, st.plRespAt, st.plResp = 0, inf, -1
	st.acq, st.acqTime, st.acqHidden, st.lastBank = -1, inf, false, 0
	st.nRead, st.nWrite, st.nTotal = 0, 0, 0
	st.relReq, st.relTime, st.ctrlRespAt, st.ctrlResp = -1, inf, inf, -1
	st.lastDir = false
	st.rq.reset(256)
	st.rqFront = inf
	st.rqNext = 0

	if cap(st.banks) < nb {
		st.banks = make([]bank, nb)
	}
	st.banks = st.banks[:nb]
	st.dirty, st.cand = 0, 0
	st.allBanks = uint64(1)<<uint(nb) - 1
	if nb == 64 {
		st.allBanks = ^uint64(0)
	}
	for i := range st.banks {
		b := &st.banks[i]
		q := b.queue[:0]
		*b = bank{queue: q, cur: -1, actTime: never}
		for c := range b.last {
			b.last[c] = never
		}
	}
	st.fawN, st.fawI = 0, 0
	for x := range st.dep {
		st.dep[x] = never
	}

	st.rState, st.flex, st.activated = rsRegular, 0, 0
	st.trig = inf
	if st.refresh {
		st.trig = st.t.REFI
	}
	st.rCmd, st.rTTS = cNOP, inf

	st.nAct, st.nPre, st.nRd, st.nWr, st.nRef = 0, 0, 0, 0, 0
	st.lastCmdT, st.lastCmdK, st.lastAutoPre = never, cNOP, never
	st.dpOpen, st.dpFirstAct, st.dpLastPre, st.dpActCyc, st.dpPreCyc = 0, 0, 0, 0, 0
	st.autoPreMask = 0

	st.ctrlNext = 0
	// First request: sent at its timestamp.
	st.scheduleNextArrival(0, true)
}

// scheduleNextArrival: the player received END_REQ at cycle a (or starts).
func (st *state) scheduleNextArrival(a int64, first bool) {
	if st.nextIdx >= st.n {
		st.playerArr = inf
		return
	}
	i := st.nextIdx
	st.nextIdx++
	st.arrReq = int32(i)
	if st.pclk == st.tck { // player and memory clocks equal: whole cycles
		l := int64(st.line[i])
		switch {
		case first:
			st.playerArr = l
		case st.rel:
			st.playerArr = a + 1 + l
		default:
			st.playerArr = max(a+1, l)
		}
		st.simpleArrival()
		return
	}
	st.playerArr = arrivalCycle(a, int64(st.line[i]), first, st.rel, st.tck, st.pclk)
	st.simpleArrival()
}

// simpleArrival: the Simple arbiter forwards an arriving request straight
// to the controller, so the arrival is recorded there at once (no event of
// its own when the controller has no room for it then).
func (st *state) simpleArrival() {
	if st.arb == ArbSimple {
		st.acq, st.acqTime, st.acqHidden = st.arrReq, st.playerArr, true
		st.playerArr = inf
	}
}

// arrivalCycle is when a request reaches the arbiter (memory cycles): the
// StlPlayer sends the first request at its timestamp and each later one at
// the next player-clock edge after the previous END_REQ (cycle a), or at
// its own timestamp if later (.stl) / that edge plus its delay (.rstl);
// the arbiter aligns arrivals to the memory clock. Times in ps.
func arrivalCycle(a, line int64, first, rel bool, tck, pclk int64) int64 {
	linePs := line * pclk
	var send int64
	if first {
		send = linePs
	} else {
		tps := a * tck
		off := pclk - tps%pclk
		if rel {
			send = tps + off + linePs
		} else {
			send = max(tps+off, linePs)
		}
	}
	return (send + tck - 1) / tck
}

func (st *state) run() error {
	st.now = min(st.playerArr, st.acqTime)
	for {
		st.step(st.now)
		if st.received >= st.n && st.now >= st.lastResp {
			return nil
		}
		nx := st.nextEvent()
		if st.received >= st.n {
			// Responses computed ahead (Simple arbiter): run on to the last one.
			nx = min(nx, st.lastResp)
		}
		if nx >= inf {
			return fmt.Errorf("deadlock at cycle %d (%d of %d responses)", st.now, st.received, st.n)
		}
		if nx <= st.now {
			nx = st.now + 1
		}
		st.now = nx
	}
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
	for range 64 {
		did := false
		if st.acqHidden && st.acq >= 0 && st.acqTime == T {
			st.acqHidden = false
			did = st.hasSpace()
		}
		if st.playerArr == T {
			st.playerArr = inf
			st.arbArrive(T, st.arrReq)
			did = true
		}
		if st.ctrlRespAt == T {
			st.ctrlRespAt = inf
			st.arbBeginResp(T, st.ctrlResp)
			did = true
		}
		if st.plRespAt == T {
			st.plRespAt = inf
			st.playerResp(T, st.plResp)
			did = true
		}
		if !did {
			return
		}
		st.controllerRun(T)
	}
}

func (st *state) nextEvent() int64 {
	T := st.now
	nx := inf
	// A pending request the controller can take: seen by the controller
	// itself, or (hidden) delivered to it by the Simple arbiter.
	acqAt := inf
	if st.acq >= 0 && st.acqTime > T && st.hasSpace() {
		acqAt = st.acqTime
	}
	if !st.acqHidden {
		nx = acqAt
	}
	if st.cand != 0 {
		bm := inf
		for m := st.cand; m != 0; m &= m - 1 {
			b := &st.banks[bits.TrailingZeros64(m)]
			bm = min(bm, max(b.local, st.dep[b.cmd]))
		}
		nx = min(nx, max(bm, st.lastCmdT+1)) // one command per clock on the bus
	}
	if st.refresh {
		if st.rCmd != cNOP {
			nx = min(nx, st.rTTS)
		} else {
			nx = min(nx, st.trig)
		}
	}
	if st.relReq < 0 && !st.aheadResp {
		nx = min(nx, st.respTrigger())
	}
	// ctrlNext: the next time the controller has something of its own to
	// do; deliveries to it always trigger an evaluation.
	st.ctrlNext = nx
	if st.playerArr > T {
		nx = min(nx, st.playerArr)
	}
	if st.acqHidden {
		nx = min(nx, acqAt)
	}
	if st.ctrlRespAt > T {
		nx = min(nx, st.ctrlRespAt)
	}
	if st.plRespAt > T {
		nx = min(nx, st.plRespAt)
	}
	return nx
}

// ---- trace player and arbiter ----

func (st *state) arbArrive(T int64, r int32) {
	if st.active < st.mat {
		st.active++
		st.scheduleNextArrival(T, false)
		st.pend.push(r)
	} else {
		st.outstanding = r
	}
	if !st.chanBusy && st.pend.size > 0 {
		st.chanBusy = true
		st.sendToCtrl(T, st.pend.pop(), st.lastEndReq == T)
	}
}

func (st *state) sendToCtrl(T int64, r int32, delay bool) {
	st.acq, st.acqTime = r, T
	if delay {
		st.acqTime = T + 1
	}
}

// arbEndReq: the controller accepted a request at T.
func (st *state) arbEndReq(T int64) {
	if st.arb == ArbSimple {
		st.scheduleNextArrival(T, false)
		return
	}
	st.lastEndReq = T
	if st.pend.size > 0 {
		st.sendToCtrl(T, st.pend.pop(), true)
	} else {
		st.chanBusy = false
	}
}

// arbBeginResp: the controller's response reaches the arbiter at T.
func (st *state) arbBeginResp(T int64, r int32) {
	if st.arb == ArbSimple {
		st.relTime = T // END_RESP comes straight back
		st.playerGot(T)
		return
	}
	st.relTime = T
	if st.arb == ArbFifo {
		st.arbResp.push(r)
		if !st.threadBusy {
			st.threadBusy = true
			st.sendToPlayer(T, st.arbResp.pop(), st.lastEndResp == T)
		}
		return
	}
	st.arbReady[r] = true
	if !st.threadBusy && int(st.nextReturn) < st.n && st.arbReady[st.nextReturn] {
		nr := st.nextReturn
		st.arbReady[nr] = false
		st.nextReturn++
		st.threadBusy = true
		st.sendToPlayer(T, nr, st.lastEndResp == T)
	}
}

func (st *state) sendToPlayer(T int64, r int32, delay bool) {
	st.plResp, st.plRespAt = r, T
	if delay {
		st.plRespAt = T + 1
	}
}

func (st *state) playerGot(T int64) {
	st.received++
	st.lastResp = T
}

// playerResp: the arbiter (Fifo/Reorder) delivers a response to the player
// at T; the player answers END_RESP at once.
func (st *state) playerResp(T int64, r int32) {
	st.playerGot(T)
	st.lastEndResp = T
	if st.outstanding >= 0 {
		o := st.outstanding
		st.outstanding = -1
		st.scheduleNextArrival(T, false)
		if !st.chanBusy {
			st.chanBusy = true
			st.sendToCtrl(T, o, st.lastEndReq == T)
		} else {
			st.pend.push(o)
		}
	} else {
		st.active--
	}
	if st.arb == ArbFifo {
		if st.arbResp.size > 0 {
			st.sendToPlayer(T, st.arbResp.pop(), true)
		} else {
			st.threadBusy = false
		}
		return
	}
	if int(st.nextReturn) < st.n && st.arbReady[st.nextReturn] {
		nr := st.nextReturn
		st.arbReady[nr] = false
		st.nextReturn++
		st.sendToPlayer(T, nr, true)
	} else {
		st.threadBusy = false
	}
}

// ---- controller ----

// controllerRun is one evaluation of the controller at T.
func (st *state) controllerRun(T int64) {
	if !st.aheadResp {
		st.manageResponses(T)
	}
	st.manageRequests(T)
	if st.refresh {
		st.refreshStart(T)
	}
	// Command selection ("Oldest"): the earliest ready time wins, ties go
	// to the lowest request id, and the refresh manager's payload has id 0.
	// Only a command ready now issues, so this is the lowest id among the
	// commands ready at T.
	if st.lastCmdT == T {
		// the command bus already carried a command at T
	} else if st.refresh && st.rCmd != cNOP && st.rTTS <= T {
		st.issue(T, st.rCmd, -1, -1)
	} else if st.cand != 0 {
		const none = int64(math.MaxInt64)
		best := none
		for m := st.cand; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			b := &st.banks[i]
			key := none
			if max(b.local, st.dep[b.cmd]) <= T {
				key = int64(b.cur)<<8 | int64(i)
			}
			best = min(best, key)
		}
		if best != none {
			i := int(best & 0xff)
			b := &st.banks[i]
			st.issue(T, b.cmd, i, b.cur)
		}
	}
	// Restart the bank machines whose inputs changed, then the refresh manager.
	for st.dirty != 0 {
		st.startBank(bits.TrailingZeros64(st.dirty))
	}
	if st.refresh {
		st.refreshStart(T)
	}
}

func (st *state) manageResponses(T int64) bool {
	if st.aheadResp {
		return false
	}
	if st.relReq >= 0 {
		if st.relTime != T {
			return false
		}
		st.relReq = -1
		st.nTotal--
		if st.nTotal > 0 {
			if r := st.respNext(T); r >= 0 {
				st.relReq, st.relTime = r, inf
				st.ctrlResp, st.ctrlRespAt = r, T+1
			}
		}
		return true
	}
	r := st.respNext(T)
	if r < 0 {
		return false
	}
	st.ctrlResp, st.ctrlRespAt = r, T
	if st.relTime == T {
		st.ctrlRespAt = T + 1
	}
	st.relReq, st.relTime = r, inf
	return true
}

func (st *state) respNext(T int64) int32 {
	if st.respM == RespFifo {
		if st.rqFront <= T {
			r := st.rq.pop()
			st.rqFront = inf
			if st.rq.size > 0 {
				st.rqFront = st.ready[st.rq.front()]
			}
			return r
		}
		return -1
	}
	if int(st.rqNext) < st.n && st.ready[st.rqNext] <= T {
		r := st.rqNext
		st.rqNext++
		return r
	}
	return -1
}

func (st *state) respTrigger() int64 {
	if st.respM == RespFifo {
		if t := st.rqFront; t > st.now {
			return t
		}
		return inf
	}
	if int(st.rqNext) < st.n {
		if t := st.ready[st.rqNext]; t > st.now && t < inf {
			return t
		}
	}
	return inf
}

func (st *state) hasSpace() bool {
	switch st.bufM {
	case BufBankwise:
		return st.banks[st.lastBank].count < st.bufSize
	case BufReadWrite:
		return st.nRead < st.bufSize && st.nWrite < st.bufSize
	default:
		return st.nRead+st.nWrite < st.bufSize
	}
}

func (st *state) manageRequests(T int64) bool {
	if st.acq < 0 || st.acqTime > T || st.acqHidden && st.acqTime == T || !st.hasSpace() {
		return false
	}
	r := st.acq
	st.acq, st.acqTime = -1, inf
	q := &st.req[r]
	b := &st.banks[q.bank]
	b.queue = append(b.queue, qent{r, q.row})
	b.count++
	if b.active && q.row == b.openRow {
		b.hits++
	}
	st.lastBank = int(q.bank)
	if q.write {
		st.nWrite++
	} else {
		st.nRead++
	}
	st.nTotal++
	st.startBank(int(q.bank))
	st.arbEndReq(T)
	return true
}

// pick is the scheduler's choice for bank i (or -1).
func (st *state) pick(b *bank) int32 {
	if len(b.queue) == 0 {
		return -1
	}
	if st.sched == SchedFifo || !b.active || b.hits == 0 {
		return b.queue[0].r
	}
	if st.sched == SchedFrFcfs {
		for _, e := range b.queue {
			if e.row == b.openRow {
				return e.r
			}
		}
		return b.queue[0].r
	}
	// FrFcfsGrp: among the row hits, the oldest in the direction of the
	// last column command without an older hit to the same address.
	first := int32(-1)
	for k, e := range b.queue {
		if e.row != b.openRow {
			continue
		}
		if first < 0 {
			first = e.r
		}
		q := &st.req[e.r]
		if q.write != st.lastDir {
			continue
		}
		hazard := false
		for _, o := range b.queue[:k] {
			if o.row == b.openRow && st.req[o.r].addr == q.addr {
				hazard = true
				break
			}
		}
		if !hazard {
			return e.r
		}
	}
	if first >= 0 {
		return first
	}
	return b.queue[0].r
}

// furtherRowHit: Fifo looks at the second entry only; FrFcfs and
// FrFcfsGrp need two buffered hits (the current request included).
func (st *state) furtherRowHit(b *bank) bool {
	if st.sched == SchedFifo {
		return len(b.queue) >= 2 && b.queue[1].row == b.openRow
	}
	return b.hits >= 2
}

// startBank re-evaluates bank machine i (BankMachine::start).
func (st *state) startBank(i int) {
	b := &st.banks[i]
	bit := uint64(1) << uint(i)
	st.dirty &^= bit
	b.cmd = cNOP
	if b.blocked || len(b.queue) == 0 {
		if !b.blocked {
			b.cur = -1
		}
		st.cand &^= bit
		return
	}
	if st.sched == SchedFifo || !b.active || b.hits == 0 {
		b.cur = b.queue[0].r // pick's answer, without the call
	} else {
		b.cur = st.pick(b)
	}
	st.cand |= bit
	q := &st.req[b.cur]
	col, colA := cRD, cRDA
	if q.write {
		col, colA = cWR, cWRA
	}
	switch {
	case !b.active:
		b.cmd = cACT
	case st.page == PageClosed:
		b.cmd = colA
	case q.row != b.openRow:
		b.cmd = cPRE
	case st.page == PageOpen:
		b.cmd = col
	case st.page == PageOpenAdaptive:
		if len(b.queue) >= 2 && !st.furtherRowHit(b) {
			b.cmd = colA
		} else {
			b.cmd = col
		}
	default: // ClosedAdaptive
		if st.furtherRowHit(b) {
			b.cmd = col
		} else {
			b.cmd = colA
		}
	}
	b.local = st.bankEarliest(b, b.cmd)
}

// bankBound: a bank's command may not issue before last[c] + d.
type bankBound struct {
	c cmdKind
	d int64
}

// bankRules fills t.bankGap, the per-bank part of CheckerDDR3: command x
// may issue on a bank no earlier than the latest last[c]+d over
// bankGap[x]. Each rule has at most four terms; shorter rules repeat
// their first term, which leaves the maximum unchanged. Commands without
// a rule (NOP, PREA, REFA) get last[cNOP]+0, which is always never.
func (t *timing) bankRules() {
	rules := [nCmd][]bankBound{
		cRD:  {{cACT, t.RCD - t.AL}},
		cRDA: {{cACT, t.RCD - t.AL}, {cWR, t.tWRPRE - t.RTP}},
		cWR:  {{cACT, t.RCD - t.AL}},
		cWRA: {{cACT, t.RCD - t.AL}},
		cACT: {{cACT, t.RC}, {cRDA, t.AL + t.RTP + t.RP}, {cWRA, t.tWRPRE + t.RP}, {cPRE, t.RP}},
		cPRE: {{cACT, t.RAS}, {cRD, t.AL + t.RTP}, {cWR, t.tWRPRE}},
	}
	for c := range t.bankGap {
		r := rules[c]
		if len(r) == 0 {
			r = []bankBound{{cNOP, 0}}
		}
		for k := range t.bankGap[c] {
			t.bankGap[c][k] = r[0]
			if k < len(r) {
				t.bankGap[c][k] = r[k]
			}
		}
	}
}

// bankEarliest is the bank-local earliest time of command c on bank b.
func (st *state) bankEarliest(b *bank, c cmdKind) int64 {
	g := &st.t.bankGap[c]
	l := &b.last
	return max(l[g[0].c]+g[0].d, l[g[1].c]+g[1].d, l[g[2].c]+g[2].d, l[g[3].c]+g[3].d)
}

// rankDelta fills t.delta: issuing command c at T forbids command x before
// T + delta[c][x] on the rank (CheckerDDR3, one rank; never = no constraint).
func (t *timing) rankDelta() {
	for c := range t.delta {
		for x := range t.delta[c] {
			t.delta[c][x] = never
		}
	}
	set := func(c cmdKind, d int64, xs ...cmdKind) {
		for _, x := range xs {
			t.delta[c][x] = max(t.delta[c][x], d)
		}
	}
	set(cRD, t.CCD, cRD, cRDA)
	set(cRDA, t.CCD, cRD, cRDA)
	set(cWR, max(t.tWRRD, t.tWRRDR), cRD, cRDA)
	set(cWRA, max(t.tWRRD, t.tWRRDR), cRD, cRDA)
	set(cRD, t.tRDWR, cWR, cWRA)
	set(cRDA, t.tRDWR, cWR, cWRA)
	set(cWR, t.CCD, cWR, cWRA)
	set(cWRA, t.CCD, cWR, cWRA)
	set(cACT, t.RRD, cACT)
	set(cPREA, t.RP, cACT)
	set(cREFA, t.RFC, cACT)
	set(cACT, t.RAS, cPREA)
	set(cRD, t.AL+t.RTP, cPREA)
	set(cRDA, t.AL+t.RTP, cPREA)
	set(cWR, t.tWRPRE, cPREA)
	set(cWRA, t.tWRPRE, cPREA)
	set(cACT, t.RC, cREFA)
	set(cRDA, t.AL+t.RTP+t.RP, cREFA)
	set(cWRA, t.tWRPRE+t.RP, cREFA)
	set(cPRE, t.RP, cREFA)
	set(cPREA, t.RP, cREFA)
	set(cREFA, t.RFC, cREFA)
	t.fillAffects(true)
}

// fillAffects lists, per command, the rank bounds it sets (from t.delta).
// Without refresh no PREA or REFA is ever issued or checked, so their
// bounds can be left out (withRefresh false) without changing any result.
func (t *timing) fillAffects(withRefresh bool) {
	for c := range t.delta {
		t.nAffects[c] = 0
		for x, d := range t.delta[c] {
			if !withRefresh && (cmdKind(x) == cPREA || cmdKind(x) == cREFA) {
				continue
			}
			if d != never {
				t.affects[c][t.nAffects[c]] = rankBound{cmdKind(x), d}
				t.nAffects[c]++
			}
		}
	}
}

// rankBound: command x may not issue before T + d after the command at T.
type rankBound struct {
	x cmdKind
	d int64
}

// updateEarly adds the rank-level constraints of command c issued at T.
// Issue times only grow, so each constraint's bound only grows and the
// running maximum stays exact. (The command bus, one command per clock,
// is checked against lastCmdT where a time is computed.)
func (st *state) updateEarly(c cmdKind, T int64) {
	for _, e := range st.t.affects[c][:st.t.nAffects[c]] {
		st.dep[e.x] = max(st.dep[e.x], T+e.d)
	}
	if c == cACT && st.fawN >= 4 {
		st.dep[cACT] = max(st.dep[cACT], st.faw[st.fawI]+st.t.FAW)
	}
}

// refreshStart is RefreshManagerAllBank::start.
func (st *state) refreshStart(T int64) {
	st.rCmd, st.rTTS = cNOP, inf
	if T < st.trig {
		return
	}
	if T >= st.trig+st.t.REFI {
		st.trig += st.t.REFI
		st.rState = rsRegular
	}
	if st.rState == rsRegular {
		if st.flex == st.maxPost {
			for i := range st.banks {
				if !st.banks[i].blocked {
					st.banks[i].blocked = true
					st.dirty |= 1 << uint(i)
				}
			}
		} else if st.busy() {
			st.flex++
			st.trig += st.t.REFI
			return
		}
		if st.activated > 0 {
			st.rCmd = cPREA
		} else {
			st.rCmd = cREFA
		}
		st.rTTS = max(T, st.dep[st.rCmd], st.lastCmdT+1)
		return
	}
	if st.busy() {
		st.rState = rsRegular
		st.trig += st.t.REFI
		return
	}
	st.rCmd = cREFA
	st.rTTS = max(T, st.dep[cREFA], st.lastCmdT+1)
}

func (st *state) busy() bool {
	for i := range st.banks {
		if st.banks[i].cur >= 0 {
			return true
		}
	}
	return false
}

// issue sends command c (bank bi, request r) at T and updates every model.
func (st *state) issue(T int64, c cmdKind, bi int, r int32) {
	t := &st.t
	if st.autoPreMask != 0 {
		st.dpAdvance(T)
	}
	switch c {
	case cACT:
		st.dpOpenBank(T)
		b := &st.banks[bi]
		b.active, b.openRow, b.actTime = true, st.req[r].row, T
		b.hits = 0
		for _, e := range b.queue {
			if e.row == b.openRow {
				b.hits++
			}
		}
		st.activated++
		st.nAct++
	case cPRE:
		st.banks[bi].active = false
		st.activated--
		st.nPre++
		st.dpCloseBank(T)
	case cRD, cWR, cRDA, cWRA:
		b := &st.banks[bi]
		b.cur = -1
		if c == cRDA || c == cWRA {
			b.active = false
			st.activated--
			st.nPre++
			off := t.rdaPreOff
			if c == cWRA {
				off = t.wraPreOff
			}
			p := max(T+off, b.actTime+t.RAS)
			st.lastAutoPre = max(st.lastAutoPre, p)
			st.autoPre[bi] = p
			st.autoPreMask |= 1 << uint(bi)
		}
		if c == cRD || c == cRDA {
			st.nRd++
		} else {
			st.nWr++
		}
	case cPREA:
		if st.dpOpen > 0 {
			st.dpActCyc += T - st.dpFirstAct
			st.dpLastPre = T
			st.dpOpen = 0
		}
		st.nPre += int64(st.activated)
		st.activated = 0
		for i := range st.banks {
			st.banks[i].active = false
		}
		st.dirty = st.allBanks
	case cREFA:
		st.nRef++
		for i := range st.banks {
			st.banks[i].blocked = false
		}
		st.dirty = st.allBanks
		if st.rState == rsPulledin {
			st.flex--
		} else {
			st.rState = rsPulledin
		}
		if st.flex == -st.maxPullIn {
			st.rState = rsRegular
			st.trig += t.REFI
		}
	}
	// Timing checker.
	if bi >= 0 {
		st.banks[bi].last[c] = T
		st.dirty |= 1 << uint(bi)
	}
	if c == cACT {
		if st.fawN < 4 {
			st.faw[(st.fawI+st.fawN)%4] = T
			st.fawN++
		} else {
			st.faw[st.fawI] = T
			st.fawI = (st.fawI + 1) % 4
		}
	}
	st.updateEarly(c, T)
	st.lastCmdT, st.lastCmdK = T, c

	if c.isCAS() {
		b := &st.banks[bi]
		q := &st.req[r]
		for k, e := range b.queue {
			if e.r == r {
				copy(b.queue[k:], b.queue[k+1:])
				b.queue = b.queue[:len(b.queue)-1]
				break
			}
		}
		b.count--
		if q.row == b.openRow {
			b.hits-- // the bank was active when the column command issued
		}
		if q.write {
			st.nWrite--
		} else {
			st.nRead--
		}
		if st.sched == SchedFrFcfsGrp && st.lastDir != q.write {
			st.lastDir = q.write
			st.dirty = st.allBanks
		}
		st.manageRequests(T)
		if q.write {
			st.ready[r] = T + t.WL + t.burst
		} else {
			st.ready[r] = T + t.RL + t.burst
		}
		if st.aheadResp {
			st.simpleResponses(r)
		} else if st.respM == RespFifo {
			st.rq.push(r)
			if st.rq.size == 1 {
				st.rqFront = st.ready[r]
			}
		}
	}
}

// simpleResponses computes response times ahead. With the Simple arbiter
// the player takes every response at once and nothing upstream waits for
// it, so the controller releases responses in its queue order (column
// commands for Fifo, request ids for Reorder), each at its data-strobe end
// but at least one clock after the previous one:
// S_k = max(ready_k, S_{k-1} + 1), the first at its ready time.
func (st *state) simpleResponses(r int32) {
	if st.respM == RespFifo {
		st.releaseAt(st.ready[r])
		return
	}
	for int(st.rqNext) < st.n && st.ready[st.rqNext] < inf {
		st.releaseAt(st.ready[st.rqNext])
		st.rqNext++
	}
}

func (st *state) releaseAt(ready int64) {
	s := ready
	if st.received > 0 {
		s = max(ready, st.lastResp+1)
	}
	st.received++
	st.lastResp = s
}

// dpAdvance applies the auto-precharges due by T in time order (DRAMPower
// sorts a PRE before another command of the same cycle).
func (st *state) dpAdvance(T int64) {
	for st.autoPreMask != 0 {
		bi, at := -1, inf
		for m := st.autoPreMask; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			if st.autoPre[i] < at {
				bi, at = i, st.autoPre[i]
			}
		}
		if at > T {
			return
		}
		st.autoPreMask &^= 1 << uint(bi)
		st.dpCloseBank(at)
	}
}

func (st *state) dpOpenBank(T int64) {
	if st.dpOpen == 0 {
		st.dpPreCyc += T - st.dpLastPre
		st.dpFirstAct = T
	}
	st.dpOpen++
}

func (st *state) dpCloseBank(T int64) {
	if st.dpOpen == 0 {
		return
	}
	st.dpOpen--
	if st.dpOpen == 0 {
		st.dpActCyc += T - st.dpFirstAct
		st.dpLastPre = T
	}
}

func (st *state) result() Result {
	t := &st.t
	// DRAMPower's window: the last command (auto-precharges included,
	// explicit PRE sorted first on ties) plus its time to completion - 1.
	var w int64
	ttc := func(c cmdKind) int64 {
		switch c {
		case cRD, cRDA:
			return t.ttcRD
		case cWR, cWRA:
			return t.ttcWR
		case cACT:
			return t.RCD
		case cPRE, cPREA:
			return t.RP
		}
		return 0
	}
	if st.lastAutoPre > st.lastCmdT {
		w = st.lastAutoPre + t.RP - 1
	} else {
		w = st.lastCmdT + ttc(st.lastCmdK) - 1
	}
	w = max(w, 0)
	// Background: cycles with a bank open at IDD3N, all precharged at IDD2N.
	st.dpAdvance(inf - 1)
	act, pre := st.dpActCyc, st.dpPreCyc
	if st.dpOpen > 0 {
		act += w - st.dpFirstAct
	} else {
		pre += w - st.dpLastPre
	}
	e := float64(st.nAct)*t.eACT + float64(st.nPre)*t.ePRE + float64(st.nRd)*t.eRD +
		float64(st.nWr)*t.eWR + float64(st.nRef)*t.eREF + float64(act)*t.eAct + float64(pre)*t.ePre
	tckNS := float64(st.tck) / 1000
	res := Result{
		Cycles:       st.lastResp,
		WindowCycles: w,
		ActiveCycles: act,
		TimeNS:       float64(st.lastResp) * tckNS,
		EnergyPJ:     e,
		NAct:         st.nAct, NPre: st.nPre, NRd: st.nRd, NWr: st.nWr, NRef: st.nRef,
		Requests: st.n,
	}
	if w > 0 {
		res.PowerMW = e / (float64(w) * tckNS)
	}
	if res.TimeNS > 0 {
		bytes := float64(st.nRd+st.nWr) * float64(st.burstBytes)
		res.BandwidthGbps = bytes * 8 / res.TimeNS
	}
	return res
}
