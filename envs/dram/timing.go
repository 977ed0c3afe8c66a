package dram

import "math"

// The DDR3 timing checker (DRAMSys CheckerDDR3): the derived timing
// constants, the per-bank and per-rank rules, the four-activate window and
// one command per clock on the command bus.

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

// timing holds the derived timing constants in cycles, the checker's rule
// tables built from them, and the energy model's per-command costs.
type timing struct {
	RCD, RP, RAS, RC, RRD, FAW, CCD, RTP, RFC, REFI, AL int64
	RL, WL, burst                                       int64
	tRDWR, tWRRD, tWRRDR, tWRPRE                        int64
	delta                                               [nCmd][nCmd]int64 // see rankDelta
	affects                                             [nCmd][nCmd]rankBound
	nAffects                                            [nCmd]int
	bankGap                                             [nCmd][4]bankBound // see bankRules
	energy                                              energyCosts
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
	t.energy = newEnergyCosts(m, &t)
	t.rankDelta()
	t.bankRules()
	return t
}

// stallLimit bounds the cycles between two column commands while requests
// wait: a request needs at most a precharge, an activate and its column
// command, each delayed by the bank, rank and bus rules, and a refresh
// blocks the banks for at most a precharge-all and RFC. The limit allows
// two refresh intervals plus 64 times the sum of every timing, far above
// any legal wait, so only a run that can never serve its requests hits it.
func (t *timing) stallLimit() int64 {
	sum := t.RCD + t.RP + t.RAS + t.RC + t.RRD + t.FAW + t.CCD + t.RTP + t.RFC + t.AL +
		t.RL + t.WL + t.burst + max(t.tWRRD, 0) + max(t.tWRPRE, 0) + max(t.tRDWR, 0)
	return 2*t.REFI + 64*sum
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

// rankChecker is the rank-level history of the timing checker.
type rankChecker struct {
	earliest  [nCmd]int64 // rank-level earliest time per command
	actTimes  [4]int64    // the last four ACTs (four-activate window), a ring
	actN      int         // ACTs in actTimes (up to 4)
	actOldest int         // index of the oldest ACT in actTimes
	lastCmdAt int64       // last command on the command bus (never: none)
	lastCmd   cmdKind
}

func (c *rankChecker) reset() {
	c.actN, c.actOldest = 0, 0
	for x := range c.earliest {
		c.earliest[x] = never
	}
	c.lastCmdAt, c.lastCmd = never, cNOP
}

// recordAct enters an ACT at T into the four-activate window.
func (ck *rankChecker) recordAct(T int64) {
	if ck.actN < 4 {
		ck.actTimes[(ck.actOldest+ck.actN)%4] = T
		ck.actN++
	} else {
		ck.actTimes[ck.actOldest] = T
		ck.actOldest = (ck.actOldest + 1) % 4
	}
}

// updateEarly adds the rank-level constraints of command c issued at T.
// Issue times only grow, so each constraint's bound only grows and the
// running maximum stays exact. (The command bus, one command per clock,
// is checked against lastCmdAt where a time is computed.)
func (st *state) updateEarly(c cmdKind, T int64) {
	ck := &st.check
	for _, e := range st.t.affects[c][:st.t.nAffects[c]] {
		ck.earliest[e.x] = max(ck.earliest[e.x], T+e.d)
	}
	if c == cACT && ck.actN >= 4 {
		ck.earliest[cACT] = max(ck.earliest[cACT], ck.actTimes[ck.actOldest]+st.t.FAW)
	}
}
