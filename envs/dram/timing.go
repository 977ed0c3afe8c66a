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
	std                                                 Standard
	RCD, RP, RAS, RC, RRD, FAW, CCD, RTP, RFC, REFI, AL int64
	RL, WL, burst                                       int64
	tRDWR, tWRRD, tWRRDR, tWRPRE                        int64
	rdResp, wrResp                                      int64             // column command to the end of its data burst
	cmdLen                                              [16]int64         // command bus cycles per command (16 entries: indexed c&15)
	varLen                                              bool              // commands of different lengths (LPDDR4)
	groups, banksPerGroup                               int               // bank groups (DDR4; 1 otherwise)
	delta                                               [nCmd][nCmd]int64 // see rankDelta
	affects                                             [nCmd][nCmd]rankBound
	nAffects                                            [nCmd]int
	gdelta                                              [nCmd][nCmd]int64 // the same within a bank group (DDR4)
	gaffects                                            [nCmd][nCmd]rankBound
	ngAffects                                           [nCmd]int
	bankGap                                             [16][4]bankBound // see bankRules (16 rows: indexed c&15)
	actGap                                              [16]int64        // actGapOK: the rule of c is the one term last[ACT] + actGap[c]
	actGapOK                                            [16]bool
	preGap3                                             bool             // PRE's rule has at most three terms (gapEarliest3)
	rankAff                                             [16]boundList    // affects as boundLists (updateEarly)
	colAff                                              [16][4]rankBound // column commands' rankAff, four entries (shorter lists repeat their first): serial.go
	colAffOK                                            bool             // every column command sets 1 to 4 rank bounds (colAff holds them)
	colAff6                                             [16][6]rankBound // the same in six entries: issue
	colAff6OK                                           bool             // every column command sets 1 to 6 rank bounds
	rowAff                                              [2][4]rankBound  // ACT's ([0]) and PRE's ([1]) rankAff in four entries, padded with noBound: actOpen, preOpen, serialAct, serialPre
	rowAffN                                             [2]int           // their lengths
	colOpen                                             [16][4]rankBound // RD's and WR's rankAff without their RDA and WRA bounds, padded with noBound: columnOpen
	colOpenN                                            [16]int          // their lengths
	colOpenOK                                           bool             // RD and WR set at most 4 rank bounds besides RDA and WRA
	rowAffOK                                            bool             // ACT and PRE set at most 4 rank bounds each (rowAff holds them)
	packOK                                              bool             // one rank without bank groups, commands of one clock, every gap below packWait: preparePacked
	energy                                              energyCosts
}

func newTiming(m *MemSpec) timing {
	tm := m.Timing
	var t timing
	t.std = m.Standard
	t.RCD, t.RP, t.RAS, t.RC = int64(tm.RCD), int64(tm.RP), int64(tm.RAS), int64(tm.RC)
	t.RRD, t.FAW, t.CCD, t.RTP = int64(tm.RRD), int64(tm.FAW), int64(tm.CCD), int64(tm.RTP)
	t.RFC, t.REFI, t.AL = int64(tm.RFC), int64(tm.REFI), int64(tm.AL)
	t.RL, t.WL = int64(tm.RL), int64(tm.WL)
	t.burst = int64(m.BurstLength / max(m.DataRate, 1))
	t.groups, t.banksPerGroup = max(m.BankGroups, 1), max(m.Banks/max(m.BankGroups, 1), 1)
	for c := range t.cmdLen {
		t.cmdLen[c] = 1
	}
	t.rdResp, t.wrResp = t.RL+t.burst, t.WL+t.burst
	switch m.Standard {
	case DDR4:
		// CheckerDDR4 derived constraints.
		t.tRDWR = t.RL + t.burst + 1 - t.WL + int64(tm.WPRE)
		t.tWRRD = t.WL + t.burst + int64(tm.WTR)
		t.tWRRDR = t.WL + t.burst + int64(tm.RTRS) - t.RL + int64(tm.RPRE)
		t.tWRPRE = t.WL + t.burst + int64(tm.WR)
	case LPDDR4:
		// CheckerLPDDR4 derived constraints; commands take 4 (ACT, RD,
		// WR) or 2 (PRE, PREA, REFA) clocks on the command bus, and data
		// ends 3 clocks later than in DDR3 (MemSpecLPDDR4).
		t.tRDWR = t.RL + int64(tm.DQSCK) + t.burst - t.WL + int64(tm.WPRE) + int64(tm.RPST)
		t.tWRRD = t.WL + 1 + t.burst + int64(tm.WTR)
		t.tWRRDR = never
		t.tWRPRE = t.WL + t.burst + 1 + int64(tm.WR) + 2
		t.rdResp = t.RL + int64(tm.DQSCK) + t.burst + 3
		t.wrResp = t.WL + int64(tm.DQSS) + int64(tm.DQS2DQ) + t.burst + 3
		for _, c := range []cmdKind{cACT, cRD, cRDA, cWR, cWRA} {
			t.cmdLen[c] = 4
		}
		for _, c := range []cmdKind{cPRE, cPREA, cREFA} {
			t.cmdLen[c] = 2
		}
		t.varLen = true
	default:
		// CheckerDDR3 derived constraints.
		t.tRDWR = t.RL + t.burst + 2 - t.WL
		t.tWRRD = t.WL + t.burst + int64(tm.WTR)
		t.tWRRDR = t.WL + t.burst + int64(tm.RTRS) - t.RL
		t.tWRPRE = t.WL + t.burst + int64(tm.WR)
	}
	t.energy = newEnergyCosts(m, &t)
	t.rankDelta(m)
	t.bankRules(m)
	t.packOK = t.groups == 1 && !t.varLen && t.maxGap() < packWait
	return t
}

// maxGap is the longest gap any rule of the checker puts between a
// command and a later one (bank rules, rank and group bounds, the
// four-activate window, command lengths); a pending bank's ready time is
// less than that past the command bus's free time, which follows the last
// command.
func (t *timing) maxGap() int64 {
	g := max(t.FAW, 0)
	for c := range t.bankGap {
		for _, b := range t.bankGap[c] {
			g = max(g, b.d)
		}
	}
	for c := range t.delta {
		for x := range t.delta[c] {
			g = max(g, t.delta[c][x], t.gdelta[c][x])
		}
	}
	for _, l := range t.cmdLen {
		g = max(g, l)
	}
	return g
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

// bankRules fills t.bankGap, the per-bank part of the standard's checker
// (CheckerDDR3, CheckerDDR4, CheckerLPDDR4): command x may issue on a bank
// no earlier than the latest last[c]+d over bankGap[x]. Each rule has at
// most four terms; shorter rules repeat their first term, which leaves the
// maximum unchanged. Commands without a rule (NOP, PREA, REFA) get
// last[cNOP]+0, which is always never.
func (t *timing) bankRules(m *MemSpec) {
	rules := [nCmd][]bankBound{
		cRD:  {{cACT, t.RCD - t.AL}},
		cRDA: {{cACT, t.RCD - t.AL}, {cWR, t.tWRPRE - t.RTP}},
		cWR:  {{cACT, t.RCD - t.AL}},
		cWRA: {{cACT, t.RCD - t.AL}},
		cACT: {{cACT, t.RC}, {cRDA, t.AL + t.RTP + t.RP}, {cWRA, t.tWRPRE + t.RP}, {cPRE, t.RP}},
		cPRE: {{cACT, t.RAS}, {cRD, t.AL + t.RTP}, {cWR, t.tWRPRE}},
	}
	if m.Standard == LPDDR4 {
		// No additive latency; the precharge rules count from the end of
		// the multi-cycle commands (RP here is tRPpb, RC tRCpb).
		rdPre := t.lpRdPre()
		rules = [nCmd][]bankBound{
			cRD:  {{cACT, t.RCD}},
			cRDA: {{cACT, t.RCD}, {cWR, t.tWRPRE - rdPre}},
			cWR:  {{cACT, t.RCD}},
			cWRA: {{cACT, t.RCD}},
			cACT: {{cACT, t.RC}, {cRDA, t.RTP + t.burst - 8 + t.RP}, {cWRA, t.WL + t.burst + 1 + int64(m.Timing.WR) + t.RP}, {cPRE, t.RP - 2}},
			cPRE: {{cACT, t.RAS + 2}, {cRD, rdPre}, {cWR, t.tWRPRE}},
		}
	}
	for c := range nCmd {
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
		t.actGapOK[c] = len(r) == 1 && r[0].c == cACT
		if c == cPRE {
			t.preGap3 = len(r) <= 3
		}
		t.actGap[c] = r[0].d
	}
}

// boundList is a list of bounds that one command sets on the commands
// after it: command x may not issue before T + d after the command at T.
// Up to 8 bounds; apply runs them unrolled.
type boundList struct {
	b [8]rankBound
	n int
}

// makeBoundList lists the bounds of d (never: no bound).
func makeBoundList(d [nCmd]int64) boundList {
	var l boundList
	for x, v := range d {
		if v != never {
			l.b[l.n] = rankBound{cmdKind(x), v}
			l.n++
		}
	}
	return l
}

// apply raises each bound's earliest time in e to T + d (the running
// maximum: issue times only grow).
func (l *boundList) apply(e *[256]int64, T int64) {
	for _, x := range l.b[:l.n&7] {
		e[x.x] = max(e[x.x], T+x.d)
	}
}

// lpRdPre is CheckerLPDDR4's tRDPRE (read to precharge).
func (t *timing) lpRdPre() int64 { return t.RTP + t.burst - 6 }

// bankEarliest is the bank-local earliest time of command c on bank b.
func (st *state) bankEarliest(b *bank, c cmdKind) int64 {
	return gapEarliest(&b.last, &st.t.bankGap[c&15])
}

// gapEarliest is the latest last[c]+d over the bank rule g.
func gapEarliest(l *[16]int64, g *[4]bankBound) int64 {
	return max(l[g[0].c&15]+g[0].d, l[g[1].c&15]+g[1].d, l[g[2].c&15]+g[2].d, l[g[3].c&15]+g[3].d)
}

// gapEarliest3 is gapEarliest for a rule of at most three terms.
func gapEarliest3(l *[16]int64, g *[4]bankBound) int64 {
	return max(l[g[0].c&15]+g[0].d, l[g[1].c&15]+g[1].d, l[g[2].c&15]+g[2].d)
}

// rankDelta fills t.delta: issuing command c at T forbids command x before
// T + delta[c][x] on the rank, and t.gdelta the same within the bank group
// of c (one rank; never = no constraint). The rules are those of the
// standard's checker in DRAMSys.
func (t *timing) rankDelta(m *MemSpec) {
	for c := range t.delta {
		for x := range t.delta[c] {
			t.delta[c][x] = never
			t.gdelta[c][x] = never
		}
	}
	tm := m.Timing
	switch m.Standard {
	case DDR4:
		// CheckerDDR4: the short timings hold on the rank, the long ones
		// (and the read-after-write turnaround with tWTR_L) within a group.
		tWRRDL := t.WL + t.burst + int64(tm.WTRL)
		for _, c := range []cmdKind{cRD, cRDA} {
			t.setRank(c, t.CCD, cRD, cRDA)
			t.setRank(c, t.tRDWR, cWR, cWRA)
			t.setRank(c, t.AL+t.RTP, cPREA)
			t.setGroup(c, int64(tm.CCDL), cRD, cRDA)
		}
		for _, c := range []cmdKind{cWR, cWRA} {
			t.setRank(c, max(t.tWRRD, t.tWRRDR), cRD, cRDA)
			t.setRank(c, t.CCD, cWR, cWRA)
			t.setRank(c, t.tWRPRE, cPREA)
			t.setGroup(c, tWRRDL, cRD, cRDA)
			t.setGroup(c, int64(tm.CCDL), cWR, cWRA)
		}
		t.setRank(cACT, t.RRD, cACT)
		t.setGroup(cACT, int64(tm.RRDL), cACT)
		t.refreshRules(t.RP, t.RFC, t.RC, t.AL+t.RTP+t.RP, t.tWRPRE+t.RP, t.RP, t.RP, t.RAS)
	case LPDDR4:
		rdPre := t.lpRdPre()
		rpab := int64(tm.RPAB)
		for _, c := range []cmdKind{cRD, cRDA} {
			t.setRank(c, t.CCD, cRD, cRDA)
			t.setRank(c, t.tRDWR, cWR, cWRA)
			t.setRank(c, rdPre, cPREA)
		}
		for _, c := range []cmdKind{cWR, cWRA} {
			t.setRank(c, t.tWRRD, cRD, cRDA)
			t.setRank(c, t.CCD, cWR, cWRA)
			t.setRank(c, t.tWRPRE, cPREA)
		}
		t.setRank(cACT, t.RRD, cACT)
		t.setRank(cPRE, int64(tm.PPD), cPRE, cPREA)
		t.refreshRules(rpab-2, t.RFC-2, t.RC+2, rdPre+t.RP, t.tWRPRE+t.RP, t.RP, rpab, t.RAS+2)
	default:
		t.setRank(cRD, t.CCD, cRD, cRDA)
		t.setRank(cRDA, t.CCD, cRD, cRDA)
		t.setRank(cWR, max(t.tWRRD, t.tWRRDR), cRD, cRDA)
		t.setRank(cWRA, max(t.tWRRD, t.tWRRDR), cRD, cRDA)
		t.setRank(cRD, t.tRDWR, cWR, cWRA)
		t.setRank(cRDA, t.tRDWR, cWR, cWRA)
		t.setRank(cWR, t.CCD, cWR, cWRA)
		t.setRank(cWRA, t.CCD, cWR, cWRA)
		t.setRank(cACT, t.RRD, cACT)
		t.setRank(cPREA, t.RP, cACT)
		t.setRank(cREFA, t.RFC, cACT)
		t.setRank(cACT, t.RAS, cPREA)
		t.setRank(cRD, t.AL+t.RTP, cPREA)
		t.setRank(cRDA, t.AL+t.RTP, cPREA)
		t.setRank(cWR, t.tWRPRE, cPREA)
		t.setRank(cWRA, t.tWRPRE, cPREA)
		t.setRank(cACT, t.RC, cREFA)
		t.setRank(cRDA, t.AL+t.RTP+t.RP, cREFA)
		t.setRank(cWRA, t.tWRPRE+t.RP, cREFA)
		t.setRank(cPRE, t.RP, cREFA)
		t.setRank(cPREA, t.RP, cREFA)
		t.setRank(cREFA, t.RFC, cREFA)
	}
	t.fillAffects(true)
}

// setRank: c at T forbids each of xs on the rank before T + d.
func (t *timing) setRank(c cmdKind, d int64, xs ...cmdKind) {
	for _, x := range xs {
		t.delta[c][x] = max(t.delta[c][x], d)
	}
}

// setGroup: c at T forbids each of xs in c's bank group before T + d.
func (t *timing) setGroup(c cmdKind, d int64, xs ...cmdKind) {
	for _, x := range xs {
		t.gdelta[c][x] = max(t.gdelta[c][x], d)
	}
}

// refreshRules sets the rank rules around all-bank precharge and refresh:
// PREA and REFA before ACT, the last ACT, RDA, WRA, PRE, PREA and REFA
// before REFA, and ACT before PREA (the read and write rules before PREA
// are set with the column commands).
func (t *timing) refreshRules(preaAct, refaAct, actRefa, rdaRefa, wraRefa, preRefa, preaRefa, actPrea int64) {
	t.setRank(cPREA, preaAct, cACT)
	t.setRank(cREFA, refaAct, cACT)
	t.setRank(cACT, actPrea, cPREA)
	t.setRank(cACT, actRefa, cREFA)
	t.setRank(cRDA, rdaRefa, cREFA)
	t.setRank(cWRA, wraRefa, cREFA)
	t.setRank(cPRE, preRefa, cREFA)
	t.setRank(cPREA, preaRefa, cREFA)
	t.setRank(cREFA, t.RFC, cREFA)
}

// fillAffects lists, per command, the rank and bank group bounds it sets
// (from t.delta and t.gdelta). Without refresh no PREA or REFA is ever
// issued or checked, so their bounds can be left out (withRefresh false)
// without changing any result.
func (t *timing) fillAffects(withRefresh bool) {
	fill := func(delta *[nCmd][nCmd]int64, aff *[nCmd][nCmd]rankBound, n *[nCmd]int) {
		for c := range delta {
			n[c] = 0
			for x, d := range delta[c] {
				if !withRefresh && (cmdKind(x) == cPREA || cmdKind(x) == cREFA) {
					continue
				}
				if d != never {
					aff[c][n[c]] = rankBound{cmdKind(x), d}
					n[c]++
				}
			}
		}
	}
	fill(&t.delta, &t.affects, &t.nAffects)
	fill(&t.gdelta, &t.gaffects, &t.ngAffects)
	for c := range nCmd {
		var d [nCmd]int64
		for x := range d {
			d[x] = never
		}
		for _, e := range t.affects[c][:t.nAffects[c]] {
			d[e.x] = e.d
		}
		t.rankAff[c] = makeBoundList(d)
	}
	t.colAffOK, t.colAff6OK = true, true
	for _, c := range []cmdKind{cRD, cRDA, cWR, cWRA} {
		l := &t.rankAff[c]
		t.colAffOK = t.colAffOK && l.n >= 1 && l.n <= 4
		t.colAff6OK = t.colAff6OK && l.n >= 1 && l.n <= 6
		for k := range t.colAff6[c] {
			b := l.b[0]
			if k < l.n {
				b = l.b[k]
			}
			if k < 4 {
				t.colAff[c][k] = b
			}
			t.colAff6[c][k] = b
		}
	}
	t.colOpenOK = true
	for _, c := range []cmdKind{cRD, cWR} {
		n := 0
		for k := range t.colOpen[c] {
			t.colOpen[c][k] = rankBound{cNOP, noBound}
		}
		for _, b := range t.rankAff[c].b[:t.rankAff[c].n] {
			if b.x == cRDA || b.x == cWRA {
				continue
			}
			if n == 4 {
				t.colOpenOK = false
				break
			}
			t.colOpen[c][n] = b
			n++
		}
		t.colOpenN[c] = n
	}
	t.rowAffOK = true
	for j, c := range []cmdKind{cACT, cPRE} {
		l := &t.rankAff[c]
		t.rowAffOK = t.rowAffOK && l.n <= 4
		t.rowAffN[j] = l.n
		for k := range t.rowAff[j] {
			t.rowAff[j][k] = rankBound{cNOP, noBound}
			if k < l.n {
				t.rowAff[j][k] = l.b[k]
			}
		}
	}
}

// noBound pads a fixed list of rank bounds: T + noBound lies below never
// for every T below 2^61, so the entry raises nothing.
const noBound int64 = math.MinInt64 / 2

// rankBound: command x may not issue before T + d after the command at T.
type rankBound struct {
	x cmdKind
	d int64
}

// rankChecker is the rank-level history of the timing checker, with the
// bank-group-level history of DDR4.
type rankChecker struct {
	earliest  [256]int64    // rank-level earliest time per command (indexed c&15, or by a cmdKind: no bounds check either way; entries past nCmd stay never)
	group     [][nCmd]int64 // per bank group: earliest time per command (never: free)
	actTimes  [4]int64      // the last four ACTs (four-activate window), a ring
	actN      int           // ACTs in actTimes (up to 4)
	actOldest int           // index of the oldest ACT in actTimes
	lastCmdAt int64         // last command on the command bus (never: none)
	lastCmd   cmdKind
	busFree   int64 // the command bus takes the next command from here
}

func (c *rankChecker) reset(groups int) {
	c.actN, c.actOldest = 0, 0
	for x := range c.earliest {
		c.earliest[x] = never
	}
	if cap(c.group) < groups {
		c.group = make([][nCmd]int64, groups)
	}
	c.group = c.group[:groups]
	for g := range c.group {
		for x := range c.group[g] {
			c.group[g][x] = never
		}
	}
	c.lastCmdAt, c.lastCmd, c.busFree = never, cNOP, never
}

// recordAct enters an ACT at T into the four-activate window.
func (ck *rankChecker) recordAct(T int64) {
	if ck.actN < 4 {
		ck.actTimes[(ck.actOldest+ck.actN)&3] = T
		ck.actN++
	} else {
		ck.actTimes[ck.actOldest&3] = T
		ck.actOldest = (ck.actOldest + 1) & 3
	}
}

// updateEarly adds the rank-level constraints of command c issued at T
// (updateGroup those within a bank group). Issue times only
// grow, so each constraint's bound only grows and the running maximum
// stays exact. (The command bus is checked against busFree where a time is
// computed.)
func (st *state) updateEarly(c cmdKind, T int64) {
	ck := &st.check
	st.t.rankAff[c&15].apply(&ck.earliest, T)
	if c == cACT && ck.actN >= 4 {
		ck.earliest[cACT] = max(ck.earliest[cACT], ck.actTimes[ck.actOldest&3]+st.t.FAW)
	}
}

// updateGroup adds the bank-group-level constraints of command c issued at
// T on bank bi (DDR4).
func (st *state) updateGroup(c cmdKind, T int64, bi int) {
	g := &st.check.group[st.bankArr[bi&63].group]
	for _, e := range st.t.gaffects[c][:st.t.ngAffects[c]] {
		g[e.x] = max(g[e.x], T+e.d)
	}
}

// ready is the earliest time bank b's command may issue (the command bus
// aside).
func (st *state) ready(b *bank) int64 {
	r := max(b.local, st.check.earliest[b.cmd])
	if st.t.groups > 1 { // DDR4 only; the other standards skip the lookup
		r = max(r, st.check.group[b.group][b.cmd])
	}
	return r
}
