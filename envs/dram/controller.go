package dram

import (
	"math"
	"math/bits"
)

// The controller's evaluation: response release, request acceptance,
// "Oldest" command selection, the issue of a command to every model, and
// the response queue (Fifo, Reorder).

// controllerRun is one evaluation of the controller at T.
func (st *state) controllerRun(T int64) {
	if !st.cfg.respAhead {
		st.manageResponses(T)
	}
	st.manageRequests(T)
	if st.cfg.refresh && (st.ref.cmd != cNOP || T >= st.ref.due) {
		st.refreshStart(T) // (otherwise it would change nothing)
	}
	// Command selection ("Oldest"): the earliest ready time wins, ties go
	// to the lowest request id, and the refresh manager's payload has id 0.
	// Only a command ready now issues, so this is the lowest id among the
	// commands ready at T.
	if st.check.busFree > T {
		// the command bus already carries a command at T
	} else if st.t.varLen {
		if st.sel.gen == st.gen && T == st.sel.at && st.machines.pending != 0 && !(st.cfg.refresh && st.ref.cmd != cNOP) {
			// prepareByEnd's selection still holds.
			if st.sel.blocked {
				st.blockedAt = T
			} else {
				i := int(st.sel.key & 0x3f)
				b := &st.bankArr[i]
				st.issue(T, b.cmd, i, b.cur)
			}
		} else {
			st.selectByEnd(T)
		}
	} else if st.cfg.refresh && st.ref.cmd != cNOP && st.ref.at <= T {
		st.issue(T, st.ref.cmd, -1, -1)
	} else if st.sel.gen == st.gen && T <= st.sel.at {
		// nextEvent's selection still holds: nothing is ready before
		// sel.at, and at sel.at its choice wins.
		if T == st.sel.at && st.sel.key != math.MaxInt64 {
			i := int(st.sel.key & 0x3f)
			b := &st.bankArr[i]
			st.issue(T, b.cmd, i, b.cur)
		}
	} else if st.machines.pending != 0 {
		if best := st.readyKey(T); best != math.MaxInt64 {
			i := int(best & 0x3f)
			b := &st.bankArr[i]
			st.issue(T, b.cmd, i, b.cur)
		}
	}
	// Restart the bank machines whose inputs changed, then the refresh manager.
	for st.machines.dirty != 0 {
		st.startBank(bits.TrailingZeros64(st.machines.dirty))
	}
	if st.cfg.refresh && (st.ref.cmd != cNOP || T >= st.ref.due) {
		st.refreshStart(T) // (otherwise it would change nothing)
	}
}

// readyKey is the "Oldest" choice among the bank machines whose command
// is ready at T (request<<8 | bank), or math.MaxInt64 if none is.
func (st *state) readyKey(T int64) int64 {
	const none = int64(math.MaxInt64)
	best := none
	for m := st.machines.pending; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		b := &st.bankArr[i&63]
		key := none
		if st.ready(b) <= T {
			key = int64(b.cur)<<8 | int64(i)
		}
		best = min(best, key)
	}
	return best
}

// selectByEnd is the "Oldest" command selection when commands take
// different numbers of clocks on the bus (LPDDR4, CmdMuxOldest): every
// candidate, ready or not, is ranked by the cycle its command would end
// (earliest start + length), ties to the lowest request id (the refresh
// manager's id 0 first). The winner issues if it is ready at T; if it is
// not, nothing issues and the ready commands it held back do not wake the
// controller again (blockedAt). It returns the command issued (cNOP if
// none).
func (st *state) selectByEnd(T int64) cmdKind {
	const none = int64(math.MaxInt64)
	bestEnd, bestID, bestAt, bestBank := none, none, none, -2
	consider := func(at int64, c cmdKind, id int64, bi int) {
		at = max(at, st.check.busFree, T)
		end := at + st.t.cmdLen[c&15]
		if end < bestEnd || end == bestEnd && id < bestID {
			bestEnd, bestID, bestAt, bestBank = end, id, at, bi
		}
	}
	if st.cfg.refresh && st.ref.cmd != cNOP {
		consider(st.ref.at, st.ref.cmd, 0, -1)
	}
	for m := st.machines.pending; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		b := &st.bankArr[i&63]
		consider(st.ready(b), b.cmd, int64(b.cur)+1, i)
	}
	switch {
	case bestBank == -2:
	case bestAt > T:
		st.blockedAt = T
	case bestBank == -1:
		c := st.ref.cmd
		st.issue(T, c, -1, -1)
		return c
	default:
		b := &st.bankArr[bestBank&63]
		c := b.cmd
		st.issue(T, c, bestBank, b.cur)
		return c
	}
	return cNOP
}

// issue sends command c (bank bi, request r; -1 for rank commands) at T
// and updates every model.
func (st *state) issue(T int64, c cmdKind, bi int, r int32) {
	st.gen++
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	switch c {
	case cACT:
		en.openBank(T)
		b := &st.bankArr[bi&63]
		b.active, b.openRow, b.actTime = true, st.tr.req[r].row, T
		b.hits = 0
		if st.cfg.sched == SchedFifo {
			// Fifo never reads hits (pick and furtherRowHit look at the
			// queue itself).
		} else if st.cfg.sched == SchedFrFcfsGrp {
			for _, e := range b.queue() {
				if e.row == b.openRow {
					b.hits++
				}
			}
		} else {
			// r is the oldest buffered request and so the oldest to its
			// row; the later ones accepted so far are all still buffered.
			b.hitHead = r
			for x := r; x >= 0 && x < st.front.accepted; x = st.tr.nextSame[x] {
				b.hits++
			}
		}
		st.machines.open++
		en.nAct++
	case cPRE:
		st.bankArr[bi&63].active = false
		st.machines.open--
		en.nPre++
		en.closeBank(T)
	case cRD, cWR, cRDA, cWRA:
		b := &st.bankArr[bi&63]
		b.cur = -1
		if c == cRDA || c == cWRA {
			b.active = false
			st.machines.open--
			en.nPre++
			en.autoPrecharge(&st.t, bi, c, T, b.actTime)
		}
		if c == cRD || c == cRDA {
			en.nRd++
		} else {
			en.nWr++
		}
	case cPREA:
		en.closeAll(T)
		en.nPre += int64(st.machines.open)
		st.machines.open = 0
		for i := range st.banks {
			st.banks[i].active = false
		}
		st.machines.dirty = st.machines.all
	case cREFA:
		en.nRef++
		en.refresh(T, st.t.RFC-st.t.RP)
		st.refreshIssued()
	}
	// Timing checker (timing.go): the bank's and the rank's history.
	if bi >= 0 {
		st.bankArr[bi&63].last[c&15] = T
		st.machines.dirty |= 1 << (uint(bi) & 63)
	}
	if c == cACT {
		st.check.recordAct(T)
	}
	if c.isCAS() && st.t.colAff6OK {
		// updateEarly, unrolled
		e := &st.check.earliest
		a := &st.t.colAff6[c&15]
		e[a[0].x] = max(e[a[0].x], T+a[0].d)
		e[a[1].x] = max(e[a[1].x], T+a[1].d)
		e[a[2].x] = max(e[a[2].x], T+a[2].d)
		e[a[3].x] = max(e[a[3].x], T+a[3].d)
		e[a[4].x] = max(e[a[4].x], T+a[4].d)
		e[a[5].x] = max(e[a[5].x], T+a[5].d)
	} else {
		st.updateEarly(c, T)
	}
	if st.t.ngAffects[c] > 0 && bi >= 0 {
		st.updateGroup(c, T, bi)
	}
	st.check.lastCmdAt, st.check.lastCmd = T, c
	st.check.busFree = T + st.t.cmdLen[c]
	if !c.isCAS() {
		return
	}
	// A column command: request r leaves the scheduler buffer and its
	// response is due at the end of the data burst. (Kept in issue, not a
	// function of its own: it runs once per request, on the hot path.)
	b := &st.bankArr[bi&63]
	q := &st.tr.req[r]
	f := &st.front
	if b.qbuf[b.qh].r == r {
		b.qh++ // Fifo, and the common case of the others
	} else {
		b.remove(r)
	}
	b.count--
	if q.row == b.openRow {
		b.hits-- // the bank was active when the column command issued
		// Fifo and FrFcfs serve the oldest hit (r == hitHead); the next
		// hit, if any is buffered, is the next request to the row.
		b.hitHead = st.tr.nextSame[r]
	}
	if q.write {
		f.nWrite--
	} else {
		f.nRead--
	}
	f.space = st.hasSpace()
	if st.cfg.sched == SchedFrFcfsGrp && f.lastWrite != q.write {
		f.lastWrite = q.write
		st.machines.dirty = st.machines.all
	}
	if f.space && f.incomingAt <= T { // (manageRequests would do nothing otherwise)
		st.manageRequests(T)
	}
	rq := &st.resp
	if q.write {
		rq.ready[r] = T + st.t.wrResp
	} else {
		rq.ready[r] = T + st.t.rdResp
	}
	if st.cfg.respAhead {
		if st.cfg.respQueue == RespFifo {
			// simpleResponses, inline
			st.player.releaseAt(rq.ready[r])
			if st.rq != nil {
				st.reqDone(r, st.player.lastResp)
			}
		} else {
			st.simpleResponses(r)
		}
	} else if st.cfg.respQueue == RespFifo {
		rq.fifo.push(r)
		if rq.fifo.size == 1 {
			rq.frontReady = rq.ready[r]
		}
	}
}

// responseQueue holds the responses between their column command and
// their release to the arbiter.
type responseQueue struct {
	ready       []int64 // data-strobe end per request (Reorder: inf until its column command)
	fifo        ring    // Fifo: request indices in column-command order
	frontReady  int64   // Fifo: ready time of the front of fifo (inf when empty)
	nextInOrder int32   // Reorder: next request index to release
}

// reset empties the queue for n requests. Only Reorder reads the ready
// time of a request before its column command (to see that it has none
// yet); Fifo reads those of issued requests only, so it leaves them stale.
// With the Simple arbiter and a Fifo queue (responses computed ahead) no
// ready time is ever read after the column command that releases it, and
// the serial and open-page paths do not store them.
func (q *responseQueue) reset(n int, reorder bool) {
	if cap(q.ready) < n {
		q.ready = make([]int64, n)
	}
	q.ready = q.ready[:n]
	if reorder {
		for i := range q.ready {
			q.ready[i] = inf
		}
	}
	q.fifo.reset(256)
	q.frontReady = inf
	q.nextInOrder = 0
}

// manageResponses releases the next ready response at T
// (Controller::manageResponses with its transToRelease); not used when
// responses are computed ahead.
func (st *state) manageResponses(T int64) {
	f := &st.front
	if f.releasing >= 0 {
		if f.releaseAt != T {
			return
		}
		f.releasing = -1
		f.inController--
		if f.inController > 0 {
			if r := st.respNext(T); r >= 0 {
				f.releasing, f.releaseAt = r, inf
				f.toArb, f.toArbAt = r, T+1
			}
		}
		return
	}
	r := st.respNext(T)
	if r < 0 {
		return
	}
	f.toArb, f.toArbAt = r, T
	if f.releaseAt == T {
		f.toArbAt = T + 1
	}
	f.releasing, f.releaseAt = r, inf
}

// respNext takes the next response ready by T off the queue (or -1).
func (st *state) respNext(T int64) int32 {
	q := &st.resp
	if st.cfg.respQueue == RespFifo {
		if q.frontReady <= T {
			r := q.fifo.pop()
			q.frontReady = inf
			if q.fifo.size > 0 {
				q.frontReady = q.ready[q.fifo.front()]
			}
			return r
		}
		return -1
	}
	if int(q.nextInOrder) < st.tr.n && q.ready[q.nextInOrder] <= T {
		r := q.nextInOrder
		q.nextInOrder++
		return r
	}
	return -1
}

// respTrigger is when the next response becomes ready after now (or inf).
func (st *state) respTrigger() int64 {
	q := &st.resp
	if st.cfg.respQueue == RespFifo {
		if t := q.frontReady; t > st.now {
			return t
		}
		return inf
	}
	if int(q.nextInOrder) < st.tr.n {
		if t := q.ready[q.nextInOrder]; t > st.now && t < inf {
			return t
		}
	}
	return inf
}

// simpleResponses computes response times ahead. With the Simple arbiter
// the player takes every response at once and nothing upstream waits for
// it, so the controller releases responses in its queue order (column
// commands for Fifo, request ids for Reorder), each at its data-strobe end
// but at least one clock after the previous one:
// S_k = max(ready_k, S_{k-1} + 1), the first at its ready time.
func (st *state) simpleResponses(r int32) {
	q := &st.resp
	if st.cfg.respQueue == RespFifo {
		st.player.releaseAt(q.ready[r])
		if st.rq != nil {
			st.reqDone(r, st.player.lastResp)
		}
		return
	}
	for int(q.nextInOrder) < st.tr.n && q.ready[q.nextInOrder] < inf {
		st.player.releaseAt(q.ready[q.nextInOrder])
		if st.rq != nil {
			st.reqDone(q.nextInOrder, st.player.lastResp)
		}
		q.nextInOrder++
	}
}
