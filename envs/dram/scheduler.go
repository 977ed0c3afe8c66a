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
	// The scheduler queue: the buffered requests in arrival order are
	// qbuf[qh:qt] (see queue); removals near the front move the head.
	qbuf    []queued
	qh, qt  int32
	hitHead int32 // Fifo, FrFcfs: the oldest buffered request to the open row (while active and hits > 0)
	active  bool
	openRow uint32
	blocked bool      // held by the refresh manager
	group   uint8     // bank group (DDR4; 0 otherwise)
	cur     int32     // currentPayload (-1: none)
	key     int64     // cur<<8 | bank, the "Oldest" key (set with cur by startBank and serialAccept; read while pending)
	cmd     cmdKind   // the command the machine wants to issue next
	local   int64     // bank-local earliest time of cmd
	count   int       // Bankwise buffer counter
	hits    int       // buffered requests to the open row (valid while active; not kept under Fifo, which never reads it)
	last    [16]int64 // the timing checker's last issue time per command on this bank (indexed c&15)
	actTime int64     // for DRAMPower's auto-precharge time
}

// bankSet tracks which bank machines need attention.
type bankSet struct {
	dirty   uint64 // banks whose machine must be re-evaluated
	pending uint64 // banks with a command (cmd != cNOP)
	all     uint64 // one bit per bank
	open    int    // open banks (the refresh manager's "activated")
}

func (st *state) resetBanks(nb, perGroup int) {
	st.banks = st.bankArr[:nb]
	ms := &st.machines
	ms.dirty, ms.pending, ms.open = 0, 0, 0
	ms.all = uint64(1)<<uint(nb) - 1
	if nb == 64 {
		ms.all = ^uint64(0)
	}
	// A bank holds at most twice the buffer size (ReadWrite); twice that
	// again leaves room to append before the queue must be moved back.
	qcap := 4 * st.cfg.bufferSize
	for i := range st.banks {
		b := &st.banks[i]
		q := b.qbuf
		if len(q) < qcap {
			q = make([]queued, qcap)
		}
		*b = bank{qbuf: q, cur: -1, hitHead: -1, actTime: never, group: uint8(i / perGroup)}
		for c := range b.last {
			b.last[c] = never
		}
	}
}

// queue returns the buffered requests of the bank in arrival order.
func (b *bank) queue() []queued { return b.qbuf[b.qh:b.qt] }

// qlen is len(b.queue()).
func (b *bank) qlen() int { return int(b.qt - b.qh) }

// push appends e to the queue.
func (b *bank) push(e queued) {
	if int(b.qt) == len(b.qbuf) {
		n := copy(b.qbuf, b.qbuf[b.qh:b.qt])
		b.qh, b.qt = 0, int32(n)
		if n == len(b.qbuf) {
			nb := make([]queued, 2*n+16)
			copy(nb, b.qbuf)
			b.qbuf = nb
		}
	}
	b.qbuf[b.qt] = e
	b.qt++
}

// remove takes request r out of the queue, moving the shorter side.
func (b *bank) remove(r int32) {
	q := b.qbuf[b.qh:b.qt]
	for k, e := range q {
		if e.r != r {
			continue
		}
		if k < len(q)/2 {
			copy(q[1:k+1], q[:k])
			b.qh++
		} else {
			copy(q[k:], q[k+1:])
			b.qt--
		}
		return
	}
}

// frontEnd is the controller's interface to the arbiter: the request being
// offered to it, the buffer counters, and the response being released.
type frontEnd struct {
	incoming   int32 // request offered by the arbiter (-1: none)
	incomingAt int64 // when it reaches the controller (inf while incoming is -1)
	// incomingHidden: a request reaching the controller at incomingAt
	// through the Simple arbiter, not seen by the controller's first
	// evaluation at incomingAt (SystemC delta order).
	incomingHidden bool

	lastBank     int   // bank of the last accepted request (the Bankwise check uses it)
	nRead        int   // buffered reads
	nWrite       int   // buffered writes
	inController int   // accepted requests whose response has not been released
	accepted     int32 // requests accepted so far (they are accepted in trace order)
	space        bool  // hasSpace(), kept up to date where the counters change

	releasing int32 // transToRelease.payload (-1: none)
	releaseAt int64 // transToRelease.time
	toArb     int32 // response on its way to the arbiter
	toArbAt   int64 // when it arrives there (BEGIN_RESP)
	lastWrite bool  // FrFcfsGrp: the last column command was a write
}

func (f *frontEnd) reset() {
	f.incoming, f.incomingAt, f.incomingHidden, f.lastBank = -1, inf, false, 0
	f.nRead, f.nWrite, f.inController, f.accepted = 0, 0, 0, 0
	f.space = true // every buffer size is at least 1
	f.releasing, f.releaseAt, f.toArbAt, f.toArb = -1, inf, inf, -1
	f.lastWrite = false
}

// hasSpace: the scheduler buffer can take a request (front.space caches
// it).
func (st *state) hasSpace() bool {
	f := &st.front
	switch st.cfg.buffer {
	case BufBankwise:
		return st.bankArr[f.lastBank&63].count < st.cfg.bufferSize
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
	if f.incomingAt > T || !f.space || f.incoming < 0 || f.incomingHidden && f.incomingAt == T {
		return
	}
	r := f.incoming
	f.incoming, f.incomingAt = -1, inf
	q := &st.tr.req[r]
	b := &st.bankArr[q.bank&63]
	b.push(queued{r, q.row})
	b.count++
	// The bank machine keeps its request, command and time (startBank
	// would change nothing) if it has a request under Fifo or FrFcfs and
	// the Open or Closed page policy, and the new request does not become
	// FrFcfs's oldest row hit: the scheduler's pick is unchanged, and the
	// command depends only on it.
	bit := uint64(1) << (q.bank & 63)
	keep := b.cur >= 0 && !b.blocked && st.machines.dirty&bit == 0 && st.cfg.keepOnAccept
	if b.active && q.row == b.openRow {
		if b.hits == 0 {
			b.hitHead = r
			keep = keep && st.cfg.sched == SchedFifo
		}
		b.hits++
	}
	f.accepted = r + 1
	f.lastBank = int(q.bank)
	if q.write {
		f.nWrite++
	} else {
		f.nRead++
	}
	f.space = st.hasSpace()
	f.inController++
	if !keep {
		st.startBank(int(q.bank))
	}
	if st.cfg.arbiter == ArbSimple {
		st.simpleNext(T)
	} else {
		st.arbEndReq(T)
	}
}

// pick is the scheduler's choice for bank i (or -1).
func (st *state) pick(b *bank) int32 {
	queue := b.queue()
	if len(queue) == 0 {
		return -1
	}
	if st.cfg.sched == SchedFifo || !b.active || b.hits == 0 {
		return queue[0].r
	}
	if st.cfg.sched == SchedFrFcfs {
		return b.hitHead // the oldest row hit
	}
	// FrFcfsGrp: among the row hits, the oldest in the direction of the
	// last column command without an older hit to the same address.
	first := int32(-1)
	for k, e := range queue {
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
		for _, o := range queue[:k] {
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
	return queue[0].r
}

// furtherRowHit: Fifo looks at the second entry only; FrFcfs and
// FrFcfsGrp need two buffered hits (the current request included).
func (st *state) furtherRowHit(b *bank) bool {
	if st.cfg.sched == SchedFifo {
		return b.qlen() >= 2 && b.qbuf[b.qh+1].row == b.openRow
	}
	return b.hits >= 2
}

// startBank re-evaluates bank machine i (BankMachine::start).
func (st *state) startBank(i int) {
	st.gen++
	b := &st.bankArr[i&63]
	bit := uint64(1) << uint(i&63)
	st.machines.dirty &^= bit
	b.cmd = cNOP
	if b.blocked || b.qt == b.qh {
		if !b.blocked {
			b.cur = -1
		}
		st.machines.pending &^= bit
		return
	}
	if st.cfg.sched == SchedFifo || !b.active || b.hits == 0 {
		b.cur = b.qbuf[b.qh].r // pick's answer, without the call
	} else if st.cfg.sched == SchedFrFcfs {
		b.cur = b.hitHead // the same
	} else {
		b.cur = st.pick(b)
	}
	b.key = int64(b.cur)<<8 | int64(i&63)
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
		if b.qlen() >= 2 && !st.furtherRowHit(b) {
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
