package dram

import "math/bits"

// The serial designs: a one-entry scheduler buffer (every buffer type then
// holds one request at a time, from its acceptance to its column command),
// no refresh and responses computed ahead (Simple arbiter). At most one
// bank machine is pending, the one of the buffered request; while it is,
// the buffer is full and no arrival is taken, and while none is, the next
// event is the acceptance of the incoming request. So the command
// selection is that bank's command at max(ready, busFree, now) (on LPDDR4
// too: ranked by end time, the one candidate is held back only until it is
// ready), and the bank machine's decisions are known: every scheduler picks
// the one buffered request, which needs a precharge if its bank is open on
// another row, an activate if it is closed, then its column command; with
// one request buffered the adaptive page policies act as Open (no
// auto-precharge) and Closed (auto-precharge) do. serialLean is lean for
// these designs with issue, manageRequests and startBank specialised to
// them; every field of the state ends as they would leave it but the
// response queue's ready times under a Fifo queue, which nothing reads
// there (responseQueue).

// serialLean simulates, like lean, the cycles before rest in which nothing
// happens but the controller's commands and the acceptance of requests
// arriving through the Simple arbiter, and reports whether it simulated
// any. It leaves no prepared selection.
func (st *state) serialLean(rest int64) bool {
	f := &st.front
	if st.machines.dirty != 0 || st.machines.pending != 0 && f.space || st.sel.blocked && st.sel.gen == st.gen {
		return false // (not a serial state; LPDDR4: a prepared evaluation that holds back)
	}
	// Neither changes below: no restart is left for later, and a bank
	// machine is pending exactly while the buffer is full.
	did := false
	for {
		if st.machines.pending == 0 {
			// No request buffered: lean's arrival case.
			if f.incoming < 0 || !f.incomingHidden || !f.space {
				break
			}
			T := f.incomingAt
			if T >= rest || T < st.now {
				break
			}
			st.now = T
			f.incomingHidden = false
			st.serialAccept(T)
			did = true
		}
		i := bits.TrailingZeros64(st.machines.pending) & 63
		b := &st.bankArr[i]
		r := st.ready(b)
		T := max(r, st.check.busFree, st.now)
		if T >= rest {
			break
		}
		if st.t.varLen && r > st.now && st.check.busFree <= st.now {
			// LPDDR4: the evaluation at the acceptance ranked the command
			// and held it back (selectByEnd).
			st.blockedAt = st.now
		}
		did = true
		// The request's commands, each at max(ready, busFree).
		if b.cmd == cPRE {
			st.now = T
			st.serialPre(T, i, b)
			if T = max(st.ready(b), st.check.busFree); T >= rest {
				break
			}
		}
		if b.cmd == cACT {
			st.now = T
			st.serialAct(T, i, b)
			if T = max(st.ready(b), st.check.busFree); T >= rest {
				break
			}
		}
		st.now = T
		st.serialColumn(T, i, b)
		if st.player.received >= st.tr.n {
			rest = min(rest, st.player.lastResp)
		}
	}
	st.gen++ // no prepared selection
	return did
}

// serialPre issues the precharge of bank machine b (bank bi) at T and
// restarts the machine: its request needs an activate.
func (st *state) serialPre(T int64, bi int, b *bank) {
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	b.active = false
	st.machines.open--
	en.nPre++
	en.closeBank(T)
	// The timing checker (issue).
	b.last[cPRE] = T
	ck := &st.check
	if st.t.rowAffOK {
		e := &ck.earliest
		// updateEarly's rank bounds from rowAff, unrolled
		if n, a := st.t.rowAffN[1], &st.t.rowAff[1]; n > 0 {
			e[a[0].x] = max(e[a[0].x], T+a[0].d)
			if n > 1 {
				e[a[1].x] = max(e[a[1].x], T+a[1].d)
				if n > 2 {
					e[a[2].x] = max(e[a[2].x], T+a[2].d)
					if n > 3 {
						e[a[3].x] = max(e[a[3].x], T+a[3].d)
					}
				}
			}
		}
	} else {
		st.updateEarly(cPRE, T)
	}
	if st.t.groups > 1 && st.t.ngAffects[cPRE] > 0 {
		st.updateGroup(cPRE, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd, ck.busFree = T, cPRE, T+st.t.cmdLen[cPRE]
	b.cmd = cACT
	b.local = st.bankEarliest(b, cACT)
}

// serialAct issues the activate of bank machine b (bank bi) at T and
// restarts the machine: its request needs its column command.
func (st *state) serialAct(T int64, bi int, b *bank) {
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	en.openBank(T)
	r := b.cur
	q := &st.tr.req[r]
	b.active, b.openRow, b.actTime = true, q.row, T
	// The buffered request is the only one to the row (issue counts it).
	switch st.cfg.sched {
	case SchedFifo:
		b.hits = 0
	case SchedFrFcfsGrp:
		b.hits = 1
	default:
		b.hits, b.hitHead = 1, r
	}
	st.machines.open++
	en.nAct++
	b.last[cACT] = T
	ck := &st.check
	ck.recordAct(T)
	if st.t.rowAffOK {
		e := &ck.earliest
		// updateEarly's rank bounds from rowAff, unrolled
		if n, a := st.t.rowAffN[0], &st.t.rowAff[0]; n > 0 {
			e[a[0].x] = max(e[a[0].x], T+a[0].d)
			if n > 1 {
				e[a[1].x] = max(e[a[1].x], T+a[1].d)
				if n > 2 {
					e[a[2].x] = max(e[a[2].x], T+a[2].d)
					if n > 3 {
						e[a[3].x] = max(e[a[3].x], T+a[3].d)
					}
				}
			}
		}
		if ck.actN >= 4 {
			e[cACT] = max(e[cACT], ck.actTimes[ck.actOldest&3]+st.t.FAW)
		}
	} else {
		st.updateEarly(cACT, T)
	}
	if st.t.groups > 1 && st.t.ngAffects[cACT] > 0 {
		st.updateGroup(cACT, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd, ck.busFree = T, cACT, T+st.t.cmdLen[cACT]
	next := cRD
	if q.write {
		next = cWR
	}
	next += st.serialA
	b.cmd = next
	if st.t.actGapOK[next&15] {
		b.local = T + st.t.actGap[next&15] // bankEarliest: the one term, after the activate at T
	} else {
		b.local = st.bankEarliest(b, next)
	}
}

// serialColumn issues the column command of bank machine b (bank bi) at
// T: its request leaves the buffer, the machine goes idle, the incoming
// request is taken if it has arrived, and the response is computed.
func (st *state) serialColumn(T int64, bi int, b *bank) {
	c := b.cmd
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	r := b.cur
	b.cur = -1
	if c == cRDA || c == cWRA {
		b.active = false
		st.machines.open--
		en.nPre++
		en.autoPrecharge(&st.t, bi, c, T, b.actTime)
	}
	q := &st.tr.req[r]
	f := &st.front
	if q.write {
		en.nWr++
	} else {
		en.nRd++
	}
	// The timing checker (issue; updateEarly with colAff).
	b.last[c&15] = T
	ck := &st.check
	e := &ck.earliest
	a := &st.t.colAff[c&15]
	e[a[0].x] = max(e[a[0].x], T+a[0].d)
	e[a[1].x] = max(e[a[1].x], T+a[1].d)
	e[a[2].x] = max(e[a[2].x], T+a[2].d)
	e[a[3].x] = max(e[a[3].x], T+a[3].d)
	if st.t.groups > 1 && st.t.ngAffects[c&15] > 0 {
		st.updateGroup(c, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd, ck.busFree = T, c, T+st.t.cmdLen[c&15]
	b.qh++ // the one buffered request
	b.count--
	if q.row == b.openRow {
		b.hits--
		b.hitHead = st.tr.nextSame[r]
	}
	if q.write {
		f.nWrite--
	} else {
		f.nRead--
	}
	f.space = true // the buffer is empty
	if st.cfg.sched == SchedFrFcfsGrp {
		f.lastWrite = q.write // (the other bank machines are idle: restarting them changes nothing)
	}
	// The machine's restart: nothing buffered.
	b.cmd = cNOP
	st.machines.pending = 0
	if f.incoming >= 0 && f.incomingAt <= T && !(f.incomingHidden && f.incomingAt == T) {
		st.serialAccept(T)
	}
	ready := T + st.t.rdResp
	if q.write {
		ready = T + st.t.wrResp
	}
	if st.cfg.respQueue == RespFifo {
		// simpleResponses: released at its ready time, one clock after
		// the previous at the earliest (resp.ready is not kept: see
		// responseQueue).
		st.player.releaseAt(ready)
		if st.rq != nil {
			st.reqDone(r, st.player.lastResp)
		}
	} else {
		st.resp.ready[r] = ready
		st.simpleResponses(r)
	}
}

// serialAccept takes the incoming request at T into the empty buffer
// (manageRequests) and starts its bank machine (startBank).
func (st *state) serialAccept(T int64) {
	f := &st.front
	r := f.incoming
	f.incoming, f.incomingAt = -1, inf
	q := &st.tr.req[r]
	bi := int(q.bank) & 63
	b := &st.bankArr[bi]
	// The queue is empty: its one entry goes to the front of the storage.
	b.qbuf[0] = queued{r, q.row}
	b.qh, b.qt = 0, 1
	b.count++
	if b.active && q.row == b.openRow {
		if b.hits == 0 {
			b.hitHead = r
		}
		b.hits++
	}
	f.accepted = r + 1
	f.lastBank = bi
	if q.write {
		f.nWrite++
	} else {
		f.nRead++
	}
	f.space = false // the one entry is taken
	f.inController++
	b.cur, b.key = r, int64(r)<<8|int64(bi)
	st.machines.pending = 1 << uint(bi)
	col := cRD
	if q.write {
		col = cWR
	}
	switch {
	case !b.active:
		b.cmd = cACT
		b.local = gapEarliest(&b.last, &st.t.bankGap[cACT])
	case st.cfg.page == PageClosed:
		b.cmd = col + 1
		b.local = st.bankEarliest(b, b.cmd)
	case q.row != b.openRow:
		b.cmd = cPRE
		if st.t.preGap3 {
			b.local = gapEarliest3(&b.last, &st.t.bankGap[cPRE])
		} else {
			b.local = gapEarliest(&b.last, &st.t.bankGap[cPRE])
		}
	default:
		c := col + st.serialA
		b.cmd = c
		if st.t.actGapOK[c&15] {
			b.local = b.last[cACT] + st.t.actGap[c&15] // bankEarliest: the one term
		} else {
			b.local = st.bankEarliest(b, c)
		}
	}
	// arbEndReq: simpleNext, inline.
	p := &st.player
	if p.next >= st.tr.n || !st.tr.whole {
		st.simpleNext(T)
		return
	}
	i := p.next
	p.next++
	p.arriving = int32(i)
	at := max(T+1, int64(st.tr.stamp[i]))
	if st.rq != nil {
		st.reqArrive(p.arriving, at)
	}
	f.incoming, f.incomingAt, f.incomingHidden = p.arriving, at, true
	p.arriveAt = inf
}
