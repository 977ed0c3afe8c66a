package dram

// The trace player (StlPlayer) and the arbiter between it and the
// controller (Simple, Fifo, Reorder, with MaxActiveTransactions).

// playerState is the trace player.
type playerState struct {
	next     int   // next trace line to send
	arriveAt int64 // arrival at the arbiter of request `arriving` (inf: none)
	arriving int32
	received int   // responses received
	lastResp int64 // when the last of them arrived
}

func (p *playerState) reset() {
	p.next, p.arriveAt, p.arriving, p.received, p.lastResp = 0, inf, -1, 0, 0
}

// got: a response reaches the player at T.
func (p *playerState) got(T int64) {
	p.received++
	p.lastResp = T
}

// releaseAt: a response computed ahead (Simple arbiter) that is ready at
// ready reaches the player one clock after the previous one at the
// earliest.
func (p *playerState) releaseAt(ready int64) {
	s := ready
	if p.received > 0 {
		s = max(ready, p.lastResp+1)
	}
	p.received++
	p.lastResp = s
}

// arbiterState is the Fifo/Reorder arbiter (the Simple arbiter forwards
// at once and keeps no state).
type arbiterState struct {
	active   int   // requests inside (MaxActiveTransactions counts them)
	held     int32 // request held back at the limit (-1: none)
	waiting  ring  // requests waiting for the channel to the controller
	reqBusy  bool  // the request channel carries a request
	respBusy bool  // the response thread is delivering a response

	lastEndReq  int64 // last END_REQ from the controller
	lastEndResp int64 // last END_RESP from the player
	respFifo    ring  // Fifo: responses waiting for the player
	respReady   []bool
	nextReturn  int32 // Reorder: next request index to return
	toPlayer    int32 // response on its way to the player
	toPlayerAt  int64 // when it arrives (BEGIN_RESP)
}

func (a *arbiterState) reset(n int) {
	a.active, a.held, a.reqBusy = 0, -1, false
	a.lastEndReq, a.lastEndResp, a.respBusy = never, never, false
	a.waiting.reset(64)
	a.respFifo.reset(64)
	a.nextReturn, a.toPlayerAt, a.toPlayer = 0, inf, -1
	if cap(a.respReady) < n {
		a.respReady = make([]bool, n)
	}
	a.respReady = a.respReady[:n]
	clear(a.respReady)
}

// scheduleNextArrival: the player received END_REQ at cycle a (or starts).
func (st *state) scheduleNextArrival(a int64, first bool) {
	p := &st.player
	if p.next >= st.tr.n {
		p.arriveAt = inf
		return
	}
	i := p.next
	p.next++
	p.arriving = int32(i)
	if st.tr.playerPS == st.tr.tckPS { // player and memory clocks equal: whole cycles
		l := int64(st.tr.stamp[i])
		switch {
		case first:
			p.arriveAt = l
		case st.tr.relative:
			p.arriveAt = a + 1 + l
		default:
			p.arriveAt = max(a+1, l)
		}
		st.simpleArrival()
		return
	}
	p.arriveAt = arrivalCycle(a, int64(st.tr.stamp[i]), first, st.tr.relative, st.tr.tckPS, st.tr.playerPS)
	st.simpleArrival()
}

// simpleNext is arbEndReq for the Simple arbiter at T: the player sends
// its next request, which reaches the controller at once
// (scheduleNextArrival and simpleArrival, whole cycles inline).
func (st *state) simpleNext(T int64) {
	p := &st.player
	if p.next >= st.tr.n {
		p.arriveAt = inf
		return
	}
	if !st.tr.whole {
		st.scheduleNextArrival(T, false)
		return
	}
	i := p.next
	p.next++
	p.arriving = int32(i)
	at := max(T+1, int64(st.tr.stamp[i]))
	if st.rq != nil {
		st.reqArrive(p.arriving, at)
	}
	f := &st.front
	f.incoming, f.incomingAt, f.incomingHidden = p.arriving, at, true
	p.arriveAt = inf
}

// simpleArrival: the Simple arbiter forwards an arriving request straight
// to the controller, so the arrival is recorded there at once (no event of
// its own when the controller has no room for it then).
func (st *state) simpleArrival() {
	if st.rq != nil { // every arrival passes here
		st.reqArrive(st.player.arriving, st.player.arriveAt)
	}
	if st.cfg.arbiter == ArbSimple {
		f := &st.front
		f.incoming, f.incomingAt, f.incomingHidden = st.player.arriving, st.player.arriveAt, true
		st.player.arriveAt = inf
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

// arbArrive: request r reaches the Fifo/Reorder arbiter at T.
func (st *state) arbArrive(T int64, r int32) {
	a := &st.arb
	if a.active < st.cfg.maxActive {
		a.active++
		st.scheduleNextArrival(T, false)
		a.waiting.push(r)
	} else {
		a.held = r
	}
	if !a.reqBusy && a.waiting.size > 0 {
		a.reqBusy = true
		st.sendToCtrl(T, a.waiting.pop(), a.lastEndReq == T)
	}
}

func (st *state) sendToCtrl(T int64, r int32, delay bool) {
	f := &st.front
	f.incoming, f.incomingAt = r, T
	if delay {
		f.incomingAt = T + 1
	}
}

// arbEndReq: the controller accepted a request at T.
func (st *state) arbEndReq(T int64) {
	if st.cfg.arbiter == ArbSimple {
		st.scheduleNextArrival(T, false)
		return
	}
	a := &st.arb
	a.lastEndReq = T
	if a.waiting.size > 0 {
		st.sendToCtrl(T, a.waiting.pop(), true)
	} else {
		a.reqBusy = false
	}
}

// arbBeginResp: the controller's response reaches the arbiter at T.
func (st *state) arbBeginResp(T int64, r int32) {
	st.front.releaseAt = T // END_RESP comes straight back
	if st.cfg.arbiter == ArbSimple {
		st.player.got(T)
		if st.rq != nil {
			st.reqDone(r, T)
		}
		return
	}
	a := &st.arb
	if st.cfg.arbiter == ArbFifo {
		a.respFifo.push(r)
		if !a.respBusy {
			a.respBusy = true
			st.sendToPlayer(T, a.respFifo.pop(), a.lastEndResp == T)
		}
		return
	}
	a.respReady[r] = true
	if !a.respBusy && int(a.nextReturn) < st.tr.n && a.respReady[a.nextReturn] {
		nr := a.nextReturn
		a.respReady[nr] = false
		a.nextReturn++
		a.respBusy = true
		st.sendToPlayer(T, nr, a.lastEndResp == T)
	}
}

func (st *state) sendToPlayer(T int64, r int32, delay bool) {
	a := &st.arb
	a.toPlayer, a.toPlayerAt = r, T
	if delay {
		a.toPlayerAt = T + 1
	}
}

// playerResp: the arbiter (Fifo/Reorder) delivers a response to the player
// at T; the player answers END_RESP at once.
func (st *state) playerResp(T int64, r int32) {
	st.player.got(T)
	if st.rq != nil {
		st.reqDone(r, T)
	}
	a := &st.arb
	a.lastEndResp = T
	if a.held >= 0 {
		o := a.held
		a.held = -1
		st.scheduleNextArrival(T, false)
		if !a.reqBusy {
			a.reqBusy = true
			st.sendToCtrl(T, o, a.lastEndReq == T)
		} else {
			a.waiting.push(o)
		}
	} else {
		a.active--
	}
	if st.cfg.arbiter == ArbFifo {
		if a.respFifo.size > 0 {
			st.sendToPlayer(T, a.respFifo.pop(), true)
		} else {
			a.respBusy = false
		}
		return
	}
	if int(a.nextReturn) < st.tr.n && a.respReady[a.nextReturn] {
		nr := a.nextReturn
		a.respReady[nr] = false
		a.nextReturn++
		st.sendToPlayer(T, nr, true)
	} else {
		a.respBusy = false
	}
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
