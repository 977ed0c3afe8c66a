package dram

import (
	"math"
	"math/bits"
)

// The open-page designs: FrFcfs or Fifo with the Open page policy and
// responses computed ahead in a Fifo response queue (Simple arbiter), on
// any buffer, refresh policy and device. leanOpen is lean for them: the
// same loop with the column command (issue and its responses), the
// acceptance of an arriving request (manageRequests and simpleNext) and
// the bank machine's restart after a column command written out for these
// designs, where the bank machine never auto-precharges (the Open policy
// issues RD and WR only), keeps its pick on acceptance unless the request
// becomes FrFcfs's oldest row hit (policy.keepOnAccept), and the response
// goes straight to the player. Every field of the state ends as lean
// leaves it but two that no open-page design reads: the rank's earliest
// RDA and WRA (columnOpen) and the response queue's ready times
// (responseQueue). TestOpenMatchesFullSteps compares the two paths and
// full steps.

// openDesign: the design takes leanOpen.
func (p *policy) openDesign() bool {
	return (p.sched == SchedFrFcfs || p.sched == SchedFifo) && p.page == PageOpen &&
		p.respAhead && p.respQueue == RespFifo
}

// leanOpen is lean (sim.go) for the open-page designs. The cycle of the
// prepared command (leanCommandAt) is kept in cmdAt: every prepared
// selection with a pending bank has a winner, and an acceptance that
// keeps the selection keeps its cycle.
//
// Two invariants hold at the top of every iteration of its loop: no bank
// machine waits for a restart (machines.dirty is 0), and while any machine
// is pending the prepared selection is valid (sel.gen == gen). leanOpen
// starts only where both hold (elsewhere it leaves the cycles to lean),
// and every iteration ends with them: each branch restarts the machines it
// touched and prepares the selection whenever a machine is pending, or
// (an acceptance that keeps the selection) changes neither. acceptOpen
// and the column branch rely on them instead of testing dirty and sel.gen.
func (st *state) leanOpen(rest int64) bool {
	if st.machines.dirty != 0 || st.machines.pending != 0 && st.sel.gen != st.gen {
		return st.lean(rest) // (the same cycles, by lean: see above)
	}
	did := false
	f := &st.front
	cmdAt := st.leanCommandAt()
	for {
		arrAt := inf // leanArrivalAt (without incoming >= 0: incomingAt is inf while there is none)
		if f.incomingHidden && f.space {
			arrAt = f.incomingAt
		}
		c := cNOP // the command issued in this cycle
		if cmdAt <= arrAt {
			T := cmdAt
			if T >= rest {
				return did
			}
			st.now = T
			did = true
			if st.sel.blocked {
				// LPDDR4: the evaluation at T holds its ready commands back.
				st.blockedAt = T
				st.prepareByEnd()
				cmdAt = st.sel.at
				continue
			}
			i := int(st.sel.key & 0x3f)
			b := &st.bankArr[i]
			c = b.cmd
			if c == cRD || c == cWR {
				st.columnOpen(T, c, i, b)
				// columnOpen leaves no machine dirty (the invariants
				// above): the loop's tail without startBank, for a column
				// command.
				if st.player.received >= st.tr.n {
					// Of the bounds in otherEvents only the end of the run moves (see lean).
					rest = min(rest, st.player.lastResp)
				}
				cmdAt = inf
				if m := st.machines.pending; m != 0 {
					if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
						if m1 := m & (m - 1); m1&(m1-1) == 0 {
							// preparePacked's one or two banks, inline (the
							// common case of a stream over two banks)
							e := &st.check.earliest
							best := packedKey(&st.bankArr[bits.TrailingZeros64(m)&63], e, bf)
							if m1 != 0 {
								best = min(best, packedKey(&st.bankArr[bits.TrailingZeros64(m1)&63], e, bf))
							}
							cmdAt = bf + best>>packShift
							st.sel.gen, st.sel.at, st.sel.key = st.gen, cmdAt, best&(1<<packShift-1)
						} else {
							cmdAt = st.preparePacked(bf)
						}
					} else {
						st.prepareOther()
						cmdAt = st.sel.at
					}
				}
				continue
			} else if (c == cACT || c == cPRE) && st.t.rowAffOK && st.machines.dirty == 0 && !b.blocked {
				// An activate or a precharge: issue and restartSame in one.
				if c == cACT {
					st.actOpen(T, i, b)
				} else {
					st.preOpen(T, i, b)
				}
				if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
					cmdAt = st.preparePacked(bf)
				} else {
					st.prepareOther()
					cmdAt = st.sel.at
				}
				continue
			} else {
				st.issue(T, c, i, b.cur)
				if (c == cACT || c == cPRE) && st.machines.dirty == 1<<uint(i) && st.restartSame(b, c) {
					st.machines.dirty = 0
					if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
						cmdAt = st.preparePacked(bf)
					} else {
						st.prepareOther()
						cmdAt = st.sel.at
					}
					continue
				}
			}
		} else {
			T := arrAt
			if T >= rest || T < st.now {
				return did
			}
			st.now = T
			did = true
			if st.acceptOpen(T) {
				// The prepared selection still holds (see lean; acceptOpen
				// marks it valid again if it restarted the machine).
				if st.t.varLen && st.check.busFree <= T {
					st.blockedAt = T
				}
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
		for st.machines.dirty != 0 {
			st.startBank(bits.TrailingZeros64(st.machines.dirty))
		}
		if c.isCAS() && st.player.received >= st.tr.n {
			// Of the bounds in otherEvents only the end of the run moves (see lean).
			rest = min(rest, st.player.lastResp)
		}
		cmdAt = inf
		if st.machines.pending != 0 {
			if bf := st.check.busFree; st.t.packOK && bf >= 0 { // prepareSelection, inline
				cmdAt = st.preparePacked(bf)
			} else {
				st.prepareOther()
				cmdAt = st.sel.at
			}
		}
	}
}

// columnOpen is issue (controller.go) of column command c (RD or WR) of
// bank machine b (bank bi) at T in an open-page design, followed by the
// machine's restart (startBank) where issue leaves it to the caller.
func (st *state) columnOpen(T int64, c cmdKind, bi int, b *bank) {
	st.gen++
	r := b.cur
	en := &st.energy
	// (No auto-precharge is ever pending: the Open policy issues no RDA
	// or WRA, and refresh none either.)
	b.cur = -1
	if c == cRD {
		en.nRd++
	} else {
		en.nWr++
	}
	b.last[c&15] = T
	bit := uint64(1) << (uint(bi) & 63)
	st.machines.dirty |= bit
	ck := &st.check
	if st.t.colOpenOK {
		// updateEarly without the bounds on RDA and WRA, which no
		// open-page design reads (its bank machines want RD or WR, never
		// RDA or WRA): those two entries of earliest are left as they are.
		e := &ck.earliest
		if n, a := st.t.colOpenN[c&15], &st.t.colOpen[c&15]; n > 0 {
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
	} else if st.t.colAff6OK {
		e := &ck.earliest
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
	if st.t.groups > 1 && st.t.ngAffects[c&15] > 0 {
		st.updateGroup(c, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd = T, c
	ck.busFree = T + st.t.cmdLen[c&15]
	// Request r leaves the buffer; its response is due at the end of the
	// data burst.
	q := &st.tr.req[r]
	f := &st.front
	if b.qbuf[b.qh].r == r {
		b.qh++
	} else {
		b.remove(r)
	}
	b.count--
	if q.row == b.openRow {
		b.hits--
		b.hitHead = st.tr.nextSame[r]
	}
	ready := T + st.t.rdResp
	if q.write {
		f.nWrite--
		ready = T + st.t.wrResp
	} else {
		f.nRead--
	}
	if st.cfg.buffer != BufBankwise || f.lastBank == bi {
		f.space = st.hasSpace() // (Bankwise: only the last accepted request's bank counts)
	}
	if f.space && (f.incomingAt < T || f.incomingAt == T && !f.incomingHidden) {
		// (manageRequests's own test: a request that arrives at T while
		// hidden is taken by the delivery at T, not here.)
		st.manageRequests(T)
	}
	st.player.releaseAt(ready) // (resp.ready is not kept: see responseQueue)
	if st.rq != nil {
		st.reqDone(r, st.player.lastResp)
	}
	if st.machines.dirty&bit == 0 {
		return // restarted by manageRequests
	}
	if b.blocked {
		st.startBank(bi)
		return
	}
	// startBank after the column command: the bank stays open, so the
	// machine's pick is FrFcfs's oldest row hit if one is buffered, else
	// the oldest request, and its command the column command for a row
	// hit, else a precharge.
	st.gen++
	st.machines.dirty &^= bit
	if b.qt == b.qh {
		b.cmd, b.cur = cNOP, -1
		st.machines.pending &^= bit
		return
	}
	cur := b.hitHead
	if st.cfg.sched == SchedFifo || b.hits == 0 {
		cur = b.qbuf[b.qh].r
	}
	b.cur, b.key = cur, int64(cur)<<8|int64(bi&63)
	st.machines.pending |= bit
	q = &st.tr.req[cur]
	if q.row != b.openRow {
		b.cmd = cPRE
		if st.t.preGap3 {
			b.local = gapEarliest3(&b.last, &st.t.bankGap[cPRE])
		} else {
			b.local = gapEarliest(&b.last, &st.t.bankGap[cPRE])
		}
		return
	}
	cmd := cRD
	if q.write {
		cmd = cWR
	}
	b.cmd = cmd
	if st.t.actGapOK[cmd&15] {
		b.local = b.last[cACT] + st.t.actGap[cmd&15] // gapEarliest: the one term
	} else {
		b.local = gapEarliest(&b.last, &st.t.bankGap[cmd&15])
	}
}

// acceptOpen is lean's acceptance of the request arriving at T in an
// open-page design (manageRequests and simpleNext) and reports whether
// the prepared selection still holds: it was valid, the request's bank
// machine was pending and keeps its request, command and time, and no
// machine waits for a restart. Under leanOpen's invariants no machine is
// dirty (nor becomes so here: startBank only clears), and a pending
// machine means a valid selection; where the machine is restarted but
// keeps its command, acceptOpen marks the selection valid again.
func (st *state) acceptOpen(T int64) bool {
	f := &st.front
	r := f.incoming
	q := &st.tr.req[r]
	bi := int(q.bank) & 63
	b := &st.bankArr[bi]
	bit := uint64(1) << uint(bi)
	held := st.machines.pending&bit != 0
	// (f.incoming, incomingAt and incomingHidden are cleared below, where
	// no next arrival replaces them at once: nothing reads them before.)
	b.push(queued{r, q.row})
	b.count++
	// keepOnAccept holds for these designs (manageRequests); no machine is
	// dirty.
	keep := b.cur >= 0 && !b.blocked
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
	if st.cfg.buffer == BufBankwise {
		f.space = b.count < st.cfg.bufferSize // hasSpace (lastBank is bi)
	} else {
		f.space = st.hasSpace()
	}
	f.inController++
	if !keep {
		cur, cmd, local := b.cur, b.cmd, b.local
		st.startBank(bi)
		held = held && b.cur == cur && b.cmd == cmd && b.local == local
		if held {
			st.sel.gen = st.gen // (startBank moved gen)
		}
	}
	// simpleNext
	p := &st.player
	if p.next >= st.tr.n {
		f.incomingHidden = false
		f.incoming, f.incomingAt = -1, inf
		p.arriveAt = inf
	} else if !st.tr.whole {
		f.incomingHidden = false
		f.incoming, f.incomingAt = -1, inf
		st.scheduleNextArrival(T, false)
	} else {
		i := int32(p.next)
		p.next++
		p.arriving = i
		at := max(T+1, int64(st.tr.stamp[i]))
		if st.rq != nil {
			st.reqArrive(i, at)
		}
		f.incoming, f.incomingAt, f.incomingHidden = i, at, true
		p.arriveAt = inf
	}
	return held
}

// actOpen is issue (controller.go) of bank machine b's activate (bank bi)
// at T in an open-page design followed by restartSame: the machine keeps
// its request (the oldest buffered one, and so under FrFcfs the oldest hit
// of the row it opens) and wants its column command next. b is not
// blocked, and no machine waits for a restart.
func (st *state) actOpen(T int64, bi int, b *bank) {
	st.gen += 2 // issue and restartSame
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	en.openBank(T)
	r := b.cur
	q := &st.tr.req[r]
	b.active, b.openRow, b.actTime = true, q.row, T
	b.hits = 0
	if st.cfg.sched != SchedFifo {
		// FrFcfs (see issue): r is the oldest buffered request to its row.
		b.hitHead = r
		for x := r; x >= 0 && x < st.front.accepted; x = st.tr.nextSame[x] {
			b.hits++
		}
	}
	st.machines.open++
	en.nAct++
	b.last[cACT] = T
	ck := &st.check
	ck.recordAct(T)
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
	if st.t.ngAffects[cACT] > 0 {
		st.updateGroup(cACT, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd = T, cACT
	ck.busFree = T + st.t.cmdLen[cACT]
	// restartSame: the column command of the Open page policy.
	next := cRD
	if q.write {
		next = cWR
	}
	b.cmd = next
	if st.t.actGapOK[next&15] {
		b.local = T + st.t.actGap[next&15] // gapEarliest: the one term, after the activate at T
	} else {
		b.local = gapEarliest(&b.last, &st.t.bankGap[next&15])
	}
}

// preOpen is issue of bank machine b's precharge (bank bi) at T in an
// open-page design followed by restartSame: the machine keeps its request
// and wants an activate next. b is not blocked, and no machine waits for a
// restart.
func (st *state) preOpen(T int64, bi int, b *bank) {
	st.gen += 2 // issue and restartSame
	en := &st.energy
	if en.autoPrePending != 0 {
		en.advance(T)
	}
	b.active = false
	st.machines.open--
	en.nPre++
	en.closeBank(T)
	b.last[cPRE] = T
	ck := &st.check
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
	if st.t.ngAffects[cPRE] > 0 {
		st.updateGroup(cPRE, T, bi)
	}
	ck.lastCmdAt, ck.lastCmd = T, cPRE
	ck.busFree = T + st.t.cmdLen[cPRE]
	b.cmd = cACT
	b.local = gapEarliest(&b.last, &st.t.bankGap[cACT])
}
