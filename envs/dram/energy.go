package dram

import "math/bits"

// The energy model (DRAMPower, DDR3): per-command energies, background
// energy from the cycles with a bank open or all banks precharged, and the
// energy window; and the Result of a run.

// energyCosts are DRAMPower's per-command constants for the whole DIMM.
type energyCosts struct {
	rdaPreOff, wraPreOff int64   // auto-precharge offsets after RDA/WRA
	ttcRD, ttcWR         int64   // time to completion of a read/write
	act, pre, rd, wr     float64 // pJ per command (ACT, PRE, RD, WR)
	ref                  float64 // pJ per all-bank refresh
	tckNS                float64 // DRAMPower's clock period (1000 / clkMhz ns)
	none                 bool    // no energy model (LPDDR4: time only)
	openCycle            float64 // pJ per cycle with a bank open (IDD3N)
	closedCycle          float64 // pJ per cycle with all banks precharged (IDD2N)
}

func newEnergyCosts(m *MemSpec, t *timing) energyCosts {
	tm := m.Timing
	var e energyCosts
	// DRAMPower (DDR3, DDR4): auto-precharge offsets and completion times.
	e.rdaPreOff = t.AL + max(t.RTP, 4)
	if m.Standard == DDR4 {
		e.rdaPreOff = t.AL + t.RTP
	}
	e.wraPreOff = t.burst + t.WL + int64(tm.WR)
	e.ttcRD = t.RL + int64(tm.DQSCK) + 1 + t.burst
	e.ttcWR = t.WL + t.burst + int64(tm.WR)
	e.tckNS = 1e3 / m.ClockMHz
	e.none = !m.HasEnergy()
	// Energies per command for the whole DIMM (pJ): cycles x tCK(ns) x mA x V.
	p := m.Power
	k := float64(m.DevicesOnDIMM) * p.VDD * 1e3 / m.ClockMHz // devices x V x tCK(ns)
	e.act = k * float64(tm.RAS) * (p.IDD0 - p.IDD3N)
	e.pre = k * float64(tm.RC-tm.RAS) * (p.IDD0 - p.IDD2N)
	if m.Standard == DDR4 {
		// DDR4 has a second voltage domain (VPP = vdd2) whose only
		// non-zero current in DramDDR4's DRAMPower setup is idd02, drawn
		// during activation and precharge (MemoryPowerModel.cc).
		k2 := float64(m.DevicesOnDIMM) * p.VDD2 * 1e3 / m.ClockMHz
		e.act += k2 * float64(tm.RAS) * p.IDD02
		e.pre += k2 * float64(tm.RC-tm.RAS) * p.IDD02
	}
	e.rd = k * float64(t.burst) * (p.IDD4R - p.IDD3N)
	e.wr = k * float64(t.burst) * (p.IDD4W - p.IDD3N)
	e.ref = k * float64(tm.RFC) * (p.IDD5 - p.IDD3N)
	e.openCycle = k * p.IDD3N
	e.closedCycle = k * p.IDD2N
	return e
}

// energyState counts commands and DRAMPower's view of the banks:
// auto-precharges land later than the RDA/WRA that implies them, so the
// background cycles are counted from DRAMPower's own open/closed times.
type energyState struct {
	nAct, nPre, nRd, nWr, nRef int64
	lastAutoPre                int64 // latest auto-precharge time (never: none)

	open           int       // banks open in DRAMPower's view
	openSince      int64     // when the first of them opened
	closedSince    int64     // when the last bank closed
	openCycles     int64     // cycles with a bank open, up to openSince
	closedCycles   int64     // cycles with all banks closed, up to closedSince
	autoPreAt      [64]int64 // pending auto-precharge per bank
	autoPrePending uint64    // banks with a pending auto-precharge
}

func (e *energyState) reset() {
	e.nAct, e.nPre, e.nRd, e.nWr, e.nRef = 0, 0, 0, 0, 0
	e.lastAutoPre = never
	e.open, e.openSince, e.closedSince, e.openCycles, e.closedCycles = 0, 0, 0, 0, 0
	e.autoPrePending = 0
}

// autoPrecharge records the precharge implied by an RDA/WRA on bank bi
// issued at T (DRAMPower: at the offset, but not before ACT + RAS).
func (e *energyState) autoPrecharge(t *timing, bi int, c cmdKind, T, actTime int64) {
	off := t.energy.rdaPreOff
	if c == cWRA {
		off = t.energy.wraPreOff
	}
	p := max(T+off, actTime+t.RAS)
	e.lastAutoPre = max(e.lastAutoPre, p)
	e.autoPreAt[bi] = p
	e.autoPrePending |= 1 << uint(bi)
}

// advance applies the auto-precharges due by T in time order (DRAMPower
// sorts a PRE before another command of the same cycle).
func (e *energyState) advance(T int64) {
	for e.autoPrePending != 0 {
		bi, at := -1, inf
		for m := e.autoPrePending; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			if e.autoPreAt[i] < at {
				bi, at = i, e.autoPreAt[i]
			}
		}
		if at > T {
			return
		}
		e.autoPrePending &^= 1 << uint(bi)
		e.closeBank(at)
	}
}

func (e *energyState) openBank(T int64) {
	if e.open == 0 {
		e.closedCycles += T - e.closedSince
		e.openSince = T
	}
	e.open++
}

func (e *energyState) closeBank(T int64) {
	if e.open == 0 {
		return
	}
	e.open--
	if e.open == 0 {
		e.openCycles += T - e.openSince
		e.closedSince = T
	}
}

// refresh is a REFA at T (all banks precharged): DRAMPower counts the
// refresh as active for RFC - RP cycles and the banks as precharged from
// then on (CommandAnalysis::handleRef).
func (e *energyState) refresh(T, active int64) {
	e.closeAll(T)
	e.closedCycles += max(T-e.closedSince, 0)
	e.openCycles += active
	e.closedSince = T + active
}

// closeAll is a PREA at T.
func (e *energyState) closeAll(T int64) {
	if e.open > 0 {
		e.openCycles += T - e.openSince
		e.closedSince = T
		e.open = 0
	}
}

func (st *state) result() Result {
	t := &st.t
	ec := &t.energy
	en := &st.energy
	// DRAMPower's window: the last command (auto-precharges included,
	// explicit PRE sorted first on ties) plus its time to completion - 1.
	var w int64
	ttc := func(c cmdKind) int64 {
		switch c {
		case cRD, cRDA:
			return ec.ttcRD
		case cWR, cWRA:
			return ec.ttcWR
		case cACT:
			return t.RCD
		case cPRE, cPREA:
			return t.RP
		}
		return 0
	}
	if en.lastAutoPre > st.check.lastCmdAt {
		w = en.lastAutoPre + t.RP - 1
	} else {
		w = st.check.lastCmdAt + ttc(st.check.lastCmd) - 1
	}
	w = max(w, 0)
	// Background: cycles with a bank open at IDD3N, all precharged at IDD2N.
	en.advance(inf - 1)
	act, pre := en.openCycles, en.closedCycles
	if en.open > 0 {
		act += w - en.openSince
	} else {
		pre += max(w-en.closedSince, 0)
	}
	e := float64(en.nAct)*ec.act + float64(en.nPre)*ec.pre + float64(en.nRd)*ec.rd +
		float64(en.nWr)*ec.wr + float64(en.nRef)*ec.ref + float64(act)*ec.openCycle + float64(pre)*ec.closedCycle
	tckNS := float64(st.tr.tckPS) / 1000
	lastResp := st.player.lastResp
	res := Result{
		Cycles:       lastResp,
		WindowCycles: w,
		ActiveCycles: act,
		TimeNS:       float64(lastResp) * tckNS,
		EnergyPJ:     e,
		NAct:         en.nAct, NPre: en.nPre, NRd: en.nRd, NWr: en.nWr, NRef: en.nRef,
		Requests: st.tr.n,
	}
	// DRAMPower divides by the cycles it counted (active + precharged),
	// which is w unless a refresh's RFC - RP active cycles run past it.
	if c := act + pre; c > 0 {
		res.PowerMW = e / (float64(c) * ec.tckNS)
	}
	if ec.none {
		res.EnergyPJ, res.PowerMW, res.ActiveCycles = 0, 0, 0
	}
	if res.TimeNS > 0 {
		bytes := float64(en.nRd+en.nWr) * float64(st.tr.burstBytes)
		res.BandwidthGbps = bytes * 8 / res.TimeNS
	}
	return res
}
