package dram

// The all-bank refresh manager (DRAMSys RefreshManagerAllBank) with
// postponing (RefreshMaxPostponed) and pulling in (RefreshMaxPulledin).

// refreshMode is the manager's state.
type refreshMode uint8

const (
	refreshRegular  refreshMode = iota // a refresh is due at `due`
	refreshPulledIn                    // refreshing ahead while the banks are idle
)

// refreshState is the refresh manager.
type refreshState struct {
	mode refreshMode
	due  int64   // next refresh deadline (inf: refresh off)
	flex int     // postponed (> 0) or pulled-in (< 0) refreshes
	cmd  cmdKind // the command the manager wants to issue (cNOP: none)
	at   int64   // its earliest time
}

func (r *refreshState) reset(on bool, refi int64) {
	r.mode, r.flex = refreshRegular, 0
	r.due = inf
	if on {
		r.due = refi
	}
	r.cmd, r.at = cNOP, inf
}

// refreshStart is RefreshManagerAllBank::start.
func (st *state) refreshStart(T int64) {
	r := &st.ref
	r.cmd, r.at = cNOP, inf
	if T < r.due {
		return
	}
	if T >= r.due+st.t.REFI {
		r.due += st.t.REFI
		r.mode = refreshRegular
	}
	if r.mode == refreshRegular {
		if r.flex == st.cfg.maxPostponed {
			for i := range st.banks {
				if !st.banks[i].blocked {
					st.banks[i].blocked = true
					st.machines.dirty |= 1 << uint(i)
				}
			}
		} else if st.busy() {
			r.flex++
			r.due += st.t.REFI
			return
		}
		if st.machines.open > 0 {
			r.cmd = cPREA
		} else {
			r.cmd = cREFA
		}
		r.at = max(T, st.check.earliest[r.cmd], st.check.busFree)
		return
	}
	if st.busy() {
		r.mode = refreshRegular
		r.due += st.t.REFI
		return
	}
	r.cmd = cREFA
	r.at = max(T, st.check.earliest[cREFA], st.check.busFree)
}

// refreshIssued: a REFA went out; the banks are released.
func (st *state) refreshIssued() {
	r := &st.ref
	for i := range st.banks {
		st.banks[i].blocked = false
	}
	st.machines.dirty = st.machines.all
	if r.mode == refreshPulledIn {
		r.flex--
	} else {
		r.mode = refreshPulledIn
	}
	if r.flex == -st.cfg.maxPulledIn {
		r.mode = refreshRegular
		r.due += st.t.REFI
	}
}

// busy: some bank machine is serving a request.
func (st *state) busy() bool {
	for i := range st.banks {
		if st.banks[i].cur >= 0 {
			return true
		}
	}
	return false
}
