package dram

// The controller's request side: the front end that accepts requests into
// the scheduler buffer (Bankwise, ReadWrite, Shared), the per-bank
// schedulers (Fifo, FrFcfs, FrFcfsGrp) and the bank machines with the four
// page policies.

// reqInfo is a decoded request.
type reqInfo struct {
	addr  uint64
	row   uint32
	bank  uint8
	write bool
}

// queued is a buffered request with its row (kept inline for fast scans).
type queued struct {
	r   int32
	row uint32
}

// bank is one bank machine plus its scheduler queue and the timing
// checker's per-bank history.
type bank struct {
	queue   []queued // buffered requests in arrival order
	active  bool
	openRow uint32
	blocked bool    // held by the refresh manager
	group   uint8   // bank group (DDR4; 0 otherwise)
	cur     int32   // currentPayload (-1: none)
	cmd     cmdKind // the command the machine wants to issue next
	local   int64   // bank-local earliest time of cmd
	count   int     // Bankwise buffer counter
	hits    int     // buffered requests to the open row (valid while active)
	last    [nCmd]int64
	actTime int64 // for DRAMPower's auto-precharge time
}

// bankSet tracks which bank machines need attention.
type bankSet struct {
	dirty   uint64 // banks whose machine must be re-evaluated
	pending uint64 // banks with a command (cmd != cNOP)
	all     uint64 // one bit per bank
	open    int    // open banks (the refresh manager's "activated")
}

func (st *state) resetBanks(nb, perGroup int) {
	if cap(st.banks) < nb {
		st.banks = make([]bank, nb)
	}
	st.banks = st.banks[:nb]
	ms := &st.machines
	ms.dirty, ms.pending, ms.open = 0, 0, 0
	ms.all = uint64(1)<<uint(nb) - 1
	if nb == 64 {
		ms.all = ^uint64(0)
	}
	for i := range st.banks {
		b := &st.banks[i]
		q := b.queue[:0]
		*b = bank{queue: q, cur: -1, actTime: never, group: uint8(i / perGroup)}
		for c := range b.last {
			b.last[c] = never
		}
	}
}

// frontEnd is the controller's interface to the arbiter: the request being
// offered to it, the buffer counters, and the response being released.
type frontEnd struct {
	incoming   int32 // request offered by the arbiter (-1: none)
	incomingAt int64 // when it reaches the controller
	// incomingHidden: a request reaching the controller at incomingAt
	// through the Simple arbiter, not seen by the controller's first
	// evaluation at incomingAt (SystemC delta order).
	incomingHidden bool

	lastBank     int // bank of the last accepted request (the Bankwise check uses it)
	nRead        int // buffered reads
	nWrite       int // buffered writes
	inController int // accepted requests whose response has not been released

	releasing int32 // transToRelease.payload (-1: none)
	releaseAt int64 // transToRelease.time
	toArb     int32 // response on its way to the arbiter
	toArbAt   int64 // when it arrives there (BEGIN_RESP)
	lastWrite bool  // FrFcfsGrp: the last column command was a write
}

func (f *frontEnd) reset() {
	f.incoming, f.incomingAt, f.incomingHidden, f.lastBank = -1, inf, false, 0
	f.nRead, f.nWrite, f.inController = 0, 0, 0
	f.releasing, f.releaseAt, f.toArbAt, f.toArb = -1, inf, inf, -1
	f.lastWrite = false
}

// hasSpace: the scheduler buffer can take a request.
func (st *state) hasSpace() bool {
	f := &st.front
	switch st.cfg.buffer {
	case BufBankwise:
		return st.banks[f.lastBank].count < st.cfg.bufferSize
	case BufReadWrite:
		return f.nRead < st.cfg.bufferSize && f.nWrite < st.cfg.bufferSize
	default:
		return f.nRead+f.nWrite < st.cfg.bufferSize
	}
}

// manageRequests accepts the incoming request at T if it has arrived and
// fits (Controller::manageRequests).
func (st *state) manageRequests(T int64) {
	f := &st.front
	if f.incoming < 0 || f.incomingAt > T || f.incomingHidden && f.incomingAt == T || !st.hasSpace() {
		return
	}
	r := f.incoming
	f.incoming, f.incomingAt = -1, inf
	q := &st.tr.req[r]
	b := &st.banks[q.bank]
	b.queue = append(b.queue, queued{r, q.row})
	b.count++
	if b.active && q.row == b.openRow {
		b.hits++
	}
	f.lastBank = int(q.bank)
	if q.write {
		f.nWrite++
	} else {
		f.nRead++
	}
	f.inController++
	st.startBank(int(q.bank))
	st.arbEndReq(T)
}

// pick is the scheduler's choice for bank i (or -1).
func (st *state) pick(b *bank) int32 {
	if len(b.queue) == 0 {
		return -1
	}
	if st.cfg.sched == SchedFifo || !b.active || b.hits == 0 {
		return b.queue[0].r
	}
	if st.cfg.sched == SchedFrFcfs {
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
		q := &st.tr.req[e.r]
		if q.write != st.front.lastWrite {
			continue
		}
		hazard := false
		for _, o := range b.queue[:k] {
			if o.row == b.openRow && st.tr.req[o.r].addr == q.addr {
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
	if st.cfg.sched == SchedFifo {
		return len(b.queue) >= 2 && b.queue[1].row == b.openRow
	}
	return b.hits >= 2
}

// startBank re-evaluates bank machine i (BankMachine::start).
func (st *state) startBank(i int) {
	b := &st.banks[i]
	bit := uint64(1) << uint(i)
	st.machines.dirty &^= bit
	b.cmd = cNOP
	if b.blocked || len(b.queue) == 0 {
		if !b.blocked {
			b.cur = -1
		}
		st.machines.pending &^= bit
		return
	}
	if st.cfg.sched == SchedFifo || !b.active || b.hits == 0 {
		b.cur = b.queue[0].r // pick's answer, without the call
	} else {
		b.cur = st.pick(b)
	}
	st.machines.pending |= bit
	q := &st.tr.req[b.cur]
	col, colA := cRD, cRDA
	if q.write {
		col, colA = cWR, cWRA
	}
	switch {
	case !b.active:
		b.cmd = cACT
	case st.cfg.page == PageClosed:
		b.cmd = colA
	case q.row != b.openRow:
		b.cmd = cPRE
	case st.cfg.page == PageOpen:
		b.cmd = col
	case st.cfg.page == PageOpenAdaptive:
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
