package dram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Standard is the DRAM standard of a device (the memspec's memoryType).
type Standard uint8

// The supported standards.
const (
	DDR3 Standard = iota
	DDR4
	LPDDR4
)

var standardNames = [...]string{DDR3: "DDR3", DDR4: "DDR4", LPDDR4: "LPDDR4"}

func (s Standard) String() string {
	if int(s) < len(standardNames) {
		return standardNames[s]
	}
	return fmt.Sprintf("Standard(%d)", int(s))
}

// parseStandard maps a memoryType to a Standard.
func parseStandard(t string) (Standard, bool) {
	for i, n := range standardNames {
		if t == n {
			return Standard(i), true
		}
	}
	return 0, false
}

// Timing holds the timing parameters in memory clock cycles (tCK), named
// as in the DDR3 memspec. For DDR4, CCD, RRD and WTR are the timings
// between different bank groups (CCD_S, RRD_S, WTR_S) and CCDL, RRDL, WTRL
// those within one bank group (CCD_L, RRD_L, WTR_L); REFI and RFC are the
// ones of the refresh mode REFM (1, 2 or 4). For LPDDR4, RP, RC and RFC
// are the per-bank precharge and row cycle (RPPB, RCPB) and the all-bank
// refresh cycle (RFCAB); RPAB is the all-bank precharge.
type Timing struct {
	CL, RL, WL, AL, RCD, RP, RAS, RC, RRD, FAW, CCD, RTP, WR, WTR int
	RFC, REFI, XP, XS, CKE, RTRS                                  int

	DQSCK            int // read DQS output access time (DDR4, LPDDR4; DDR3: 0)
	CCDL, RRDL, WTRL int // DDR4: same bank group
	RPRE, WPRE       int // DDR4, LPDDR4 (WPRE): read/write preamble
	RPAB, PPD, RPST  int // LPDDR4: all-bank precharge, precharge to precharge, read postamble
	DQSS, DQS2DQ     int // LPDDR4: write DQS timings
}

// Power holds the device currents (mA) and supply voltages (V). IDD02 and
// VDD2 are the DDR4 activation-pump (VPP) current and voltage.
type Power struct {
	IDD0, IDD2N, IDD3N, IDD4R, IDD4W, IDD5, VDD float64
	IDD02, VDD2                                 float64
}

// MemSpec describes the DRAM device and DIMM (DRAMSys memspec format).
type MemSpec struct {
	ID            string
	Type          string // memoryType as written
	Standard      Standard
	BurstLength   int
	DataRate      int
	Banks         int // per rank, all bank groups together
	BankGroups    int // DDR4: bank groups per rank; 1 otherwise
	Rows          int
	Columns       int
	Ranks         int
	Width         int // bits per device
	DevicesOnDIMM int
	ClockMHz      float64
	Timing        Timing
	Power         Power
}

// HasEnergy reports whether the energy model covers the device: the
// reference's DRAMPower has no LPDDR4 model, so LPDDR4 runs report time
// only (energy and power 0).
func (m *MemSpec) HasEnergy() bool { return m.Standard != LPDDR4 }

// bytesPerBurst returns the bytes moved by one column command on the DIMM.
func (m *MemSpec) bytesPerBurst() int { return m.BurstLength * m.Width * m.DevicesOnDIMM / 8 }

type memspecJSON struct {
	Memspec *struct {
		Arch *struct {
			BurstLength   int `json:"burstLength"`
			DataRate      int `json:"dataRate"`
			Banks         int `json:"nbrOfBanks"`
			BankGroups    int `json:"nbrOfBankGroups"`
			Columns       int `json:"nbrOfColumns"`
			Ranks         int `json:"nbrOfRanks"`
			Rows          int `json:"nbrOfRows"`
			Width         int `json:"width"`
			DevicesOnDIMM int `json:"nbrOfDevicesOnDIMM"`
			Channels      int `json:"nbrOfChannels"`
		} `json:"memarchitecturespec"`
		MemoryID   string             `json:"memoryId"`
		MemoryType string             `json:"memoryType"`
		Power      map[string]float64 `json:"mempowerspec"`
		Timing     map[string]float64 `json:"memtimingspec"`
	} `json:"memspec"`
}

// The embedded devices and address mappings (shipped with the reference
// data; DRAMSys memspec and CONGEN formats).
const (
	defaultMemSpecFile = "data/MICRON_1Gb_DDR3-1600_8bit_G.json"
	defaultMappingFile = "data/am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json"
	ddr4MemSpecFile    = "data/JEDEC_4Gb_DDR4-2400_8bit_A.json"
	ddr4MappingFile    = "data/am_ddr4_8x4Gbx8_dimm_p1KB_brc.json"
	lpddr4MemSpecFile  = "data/JEDEC_8Gb_LPDDR4-3200_16bit.json"
	lpddr4MappingFile  = "data/am_lpddr4_8Gbx16_brc.json"
)

// defaultMemSpec returns the embedded Micron 1Gb DDR3-1600 x8 memspec.
func defaultMemSpec() *MemSpec { return mustEmbeddedMemSpec(defaultMemSpecFile) }

func mustEmbeddedMemSpec(file string) *MemSpec {
	data, err := dataFS.ReadFile(file)
	if err != nil {
		panic(err) // embedded at build time
	}
	m, err := parseMemSpec(data, file)
	if err != nil {
		panic(err)
	}
	return m
}

// EmbeddedMemSpecs lists the memspec files built into the binary (base
// names); LoadMemSpec finds them by name.
func EmbeddedMemSpecs() []string { return embeddedJSON("memspec") }

// EmbeddedMappings lists the address-mapping files built into the binary.
func EmbeddedMappings() []string { return embeddedJSON("CONGEN") }

// embeddedJSON lists the embedded JSON files whose top-level key is key.
func embeddedJSON(key string) []string {
	ents, _ := dataFS.ReadDir("data")
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := dataFS.ReadFile("data/" + e.Name())
		if err == nil && bytes.Contains(data, []byte(`"`+key+`"`)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// readDataFile reads path, or, when no such file exists and path names an
// embedded file (by base name, ".json" optional), the embedded copy.
func readDataFile(path string, embedded []string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	base := filepath.Base(path)
	for _, e := range embedded {
		if base == e || base+".json" == e {
			return dataFS.ReadFile("data/" + e)
		}
	}
	return nil, fmt.Errorf("%w (embedded: %s)", err, strings.Join(embedded, ", "))
}

// LoadMemSpec reads a DRAMSys memspec JSON file; a name that is not a file
// selects an embedded memspec of that name (see EmbeddedMemSpecs).
func LoadMemSpec(path string) (*MemSpec, error) {
	data, err := readDataFile(path, EmbeddedMemSpecs())
	if err != nil {
		return nil, fmt.Errorf("memspec: %w", err)
	}
	return parseMemSpec(data, path)
}

// parseMemSpec decodes a DRAMSys memspec; file is used in error messages.
// The memoryType selects the standard (DDR3, DDR4, LPDDR4) and with it the
// timing keys read (as DRAMSys's MemSpecDDR3/DDR4/LPDDR4 read them).
func parseMemSpec(data []byte, file string) (*MemSpec, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var j memspecJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("memspec %s: %w", file, jsonErr(data, err))
	}
	if j.Memspec == nil || j.Memspec.Arch == nil || j.Memspec.Timing == nil {
		return nil, fmt.Errorf("memspec %s: need memspec.memarchitecturespec, mempowerspec and memtimingspec", file)
	}
	a := j.Memspec.Arch
	m := &MemSpec{
		ID: j.Memspec.MemoryID, Type: j.Memspec.MemoryType,
		BurstLength: a.BurstLength, DataRate: a.DataRate, Banks: a.Banks, BankGroups: a.BankGroups, Rows: a.Rows,
		Columns: a.Columns, Ranks: a.Ranks, Width: a.Width, DevicesOnDIMM: a.DevicesOnDIMM,
	}
	std, ok := parseStandard(m.Type)
	if !ok { // checked first: other types have other timing keys
		return nil, fmt.Errorf("memspec %s: memoryType %q not supported (supported: DDR3, DDR4, LPDDR4)", file, m.Type)
	}
	m.Standard = std
	if j.Memspec.Power == nil && std != LPDDR4 { // LPDDR4 is timing only
		return nil, fmt.Errorf("memspec %s: need memspec.memarchitecturespec, mempowerspec and memtimingspec", file)
	}
	if m.DevicesOnDIMM == 0 || std == LPDDR4 { // DRAMSys: one LPDDR4 device per channel
		m.DevicesOnDIMM = 1
	}
	if m.Ranks == 0 {
		m.Ranks = 1
	}
	if std != DDR4 {
		m.BankGroups = 1
	}
	t := j.Memspec.Timing
	var missing []string
	get := func(k string) int {
		v, ok := t[k]
		if !ok {
			missing = append(missing, k)
		}
		return int(v)
	}
	m.ClockMHz = t["clkMhz"]
	tm := &m.Timing
	switch std {
	case DDR3:
		*tm = Timing{
			CL: get("CL"), RL: get("RL"), WL: get("WL"), AL: int(t["AL"]), RCD: get("RCD"), RP: get("RP"),
			RAS: get("RAS"), RC: get("RC"), RRD: get("RRD"), FAW: get("FAW"), CCD: get("CCD"),
			RTP: get("RTP"), WR: get("WR"), WTR: get("WTR"), RFC: get("RFC"), REFI: get("REFI"),
			XP: int(t["XP"]), XS: int(t["XS"]), CKE: int(t["CKE"]), RTRS: int(t["RTRS"]), DQSCK: int(t["DQSCK"]),
		}
	case DDR4:
		*tm = Timing{
			CL: get("CL"), RL: get("RL"), WL: get("WL"), AL: int(t["AL"]), RCD: get("RCD"), RP: get("RP"),
			RAS: get("RAS"), RC: get("RC"), RRD: get("RRD_S"), RRDL: get("RRD_L"), FAW: get("FAW"),
			CCD: get("CCD_S"), CCDL: get("CCD_L"), RTP: get("RTP"), WR: get("WR"), WTR: get("WTR_S"), WTRL: get("WTR_L"),
			RPRE: get("RPRE"), WPRE: get("WPRE"), DQSCK: get("DQSCK"),
			XP: int(t["XP"]), XS: int(t["XS"]), CKE: int(t["CKE"]), RTRS: get("RTRS"),
		}
		// Fine-granularity refresh (MemSpecDDR4): REFM 2 and 4 divide
		// REFI and use RFC2 and RFC4.
		refm, ok := t["REFM"]
		if !ok {
			refm = 1
		}
		switch refm {
		case 1:
			tm.REFI, tm.RFC = get("REFI"), get("RFC")
		case 2:
			tm.REFI, tm.RFC = get("REFI")/2, get("RFC2")
		case 4:
			tm.REFI, tm.RFC = get("REFI")/4, get("RFC4")
		default:
			return nil, fmt.Errorf("memspec %s: memtimingspec.REFM = %v: want 1, 2 or 4 (fine-granularity refresh mode)", file, refm)
		}
	case LPDDR4:
		*tm = Timing{
			RL: get("RL"), WL: get("WL"), RCD: get("RCD"), RP: get("RPPB"), RPAB: get("RPAB"),
			RAS: get("RAS"), RC: get("RCPB"), RRD: get("RRD"), FAW: get("FAW"), CCD: get("CCD"),
			RTP: get("RTP"), WR: get("WR"), WTR: get("WTR"), RFC: get("RFCAB"), REFI: get("REFI"),
			PPD: get("PPD"), RPST: get("RPST"), WPRE: get("WPRE"), DQSCK: get("DQSCK"), DQSS: get("DQSS"),
			DQS2DQ: get("DQS2DQ"), XP: int(t["XP"]), CKE: int(t["CKE"]), RTRS: get("RTRS"),
		}
		tm.CL = tm.RL
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("memspec %s: memtimingspec lacks %v", file, missing)
	}
	for k, v := range t {
		if v < 0 || v > 1e7 || v != math.Trunc(v) && k != "clkMhz" {
			return nil, fmt.Errorf("memspec %s: memtimingspec.%s = %v: want a whole number of cycles in [0, 1e7]", file, k, v)
		}
	}
	if p := j.Memspec.Power; p != nil {
		m.Power = Power{IDD0: p["idd0"], IDD2N: p["idd2n"], IDD3N: p["idd3n"], IDD4R: p["idd4r"], IDD4W: p["idd4w"],
			IDD5: p["idd5"], VDD: p["vdd"]}
		if std == DDR4 {
			m.Power.IDD02, m.Power.VDD2 = p["idd02"], p["vdd2"]
		}
		if std == DDR4 {
			var lacks []string
			for _, k := range powerKeys(std) {
				if _, ok := p[k]; !ok {
					lacks = append(lacks, k)
				}
			}
			if len(lacks) > 0 {
				return nil, fmt.Errorf("memspec %s: mempowerspec lacks %v", file, lacks)
			}
		}
	}
	if a.Channels > 1 {
		return nil, fmt.Errorf("memspec %s: memarchitecturespec.nbrOfChannels %d not supported (only 1)", file, a.Channels)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("memspec %s: %w", file, err)
	}
	return m, nil
}

// powerKeys are the mempowerspec keys the energy model of std reads.
func powerKeys(std Standard) []string {
	k := []string{"idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd5", "vdd"}
	if std == DDR4 {
		k = append(k, "idd02", "vdd2")
	}
	return k
}

// Limits of a plausible device, used by check. A DDR3 clock is 300 to
// 1066 MHz, DDR4 up to 1600, LPDDR4 up to 2133; the limits only keep out
// values that make no physical sense.
const (
	minClockMHz  = 1
	maxClockMHz  = 1e4
	maxCurrentMA = 1e4 // per device
	maxVDD       = 10  // V
	maxBusBits   = 128 // width x devices: a DIMM has 64 data bits (72 with ECC)
)

type namedInt struct {
	name string
	v    int
}

// positive returns an error naming the first field that is not positive.
func positive(fs []namedInt) error {
	for _, f := range fs {
		if f.v <= 0 {
			return fmt.Errorf("memtimingspec.%s = %d: want a positive number of cycles", f.name, f.v)
		}
	}
	return nil
}

// check rejects a device the simulator cannot model or that is physically
// impossible: it names the first offending field (DRAMSys JSON names).
// Every device it accepts has positive command energies, finite results,
// and leaves time between refreshes to serve requests.
func (m *MemSpec) check() error {
	switch {
	case m.Standard > LPDDR4:
		return fmt.Errorf("memoryType %q not supported (supported: DDR3, DDR4, LPDDR4)", m.Type)
	case !(m.ClockMHz >= minClockMHz && m.ClockMHz <= maxClockMHz):
		return fmt.Errorf("memtimingspec.clkMhz %v out of range [%v, %v]", m.ClockMHz, minClockMHz, maxClockMHz)
	case m.Banks <= 0 || m.Banks > 64:
		return fmt.Errorf("memarchitecturespec.nbrOfBanks %d out of range [1, 64]", m.Banks)
	case m.Ranks != 1:
		return fmt.Errorf("memarchitecturespec.nbrOfRanks %d not supported (only 1)", m.Ranks)
	}
	switch m.Standard {
	case DDR4:
		return m.checkDDR4()
	case LPDDR4:
		return m.checkLPDDR4()
	}
	switch {
	case m.BurstLength != 4 && m.BurstLength != 8:
		return fmt.Errorf("memarchitecturespec.burstLength %d: a DDR3 burst is 8 (or 4, burst chop)", m.BurstLength)
	case m.DataRate != 2:
		return fmt.Errorf("memarchitecturespec.dataRate %d: DDR3 moves 2 beats per clock", m.DataRate)
	case m.Width != 4 && m.Width != 8 && m.Width != 16:
		return fmt.Errorf("memarchitecturespec.width %d: a DDR3 device is 4, 8 or 16 bits wide", m.Width)
	}
	if err := m.checkDIMM(); err != nil {
		return err
	}
	tm := &m.Timing
	if err := positive([]namedInt{
		{"CL", tm.CL}, {"RL", tm.RL}, {"WL", tm.WL}, {"RCD", tm.RCD}, {"RP", tm.RP}, {"RAS", tm.RAS},
		{"RC", tm.RC}, {"RRD", tm.RRD}, {"FAW", tm.FAW}, {"CCD", tm.CCD}, {"RTP", tm.RTP}, {"WR", tm.WR},
		{"WTR", tm.WTR}, {"RFC", tm.RFC}, {"REFI", tm.REFI},
	}); err != nil {
		return err
	}
	if tm.AL < 0 || tm.RTRS < 0 {
		return fmt.Errorf("memtimingspec.AL (%d) and RTRS (%d) must not be negative", tm.AL, tm.RTRS)
	}
	if err := m.checkRows("CCD", "RAS", "RC", "RP", "RFC"); err != nil {
		return err
	}
	return m.checkPower()
}

// checkDIMM checks the devices on the DIMM and the row and column counts.
func (m *MemSpec) checkDIMM() error {
	switch {
	case m.DevicesOnDIMM <= 0 || m.Width*m.DevicesOnDIMM > maxBusBits:
		return fmt.Errorf("memarchitecturespec.nbrOfDevicesOnDIMM %d: want 1 to %d devices of width %d (a bus of at most %d bits)",
			m.DevicesOnDIMM, maxBusBits/max(m.Width, 1), m.Width, maxBusBits)
	case m.Rows < 0 || m.Columns < 0:
		return fmt.Errorf("memarchitecturespec.nbrOfRows %d / nbrOfColumns %d must not be negative", m.Rows, m.Columns)
	}
	return nil
}

// checkRows checks the burst, row-cycle and refresh relations shared by
// every standard; the names are the memspec keys of CCD, RAS, RC, RP and
// RFC in the device's standard.
func (m *MemSpec) checkRows(ccd, ras, rc, rp, rfc string) error {
	tm := &m.Timing
	if burst := m.BurstLength / m.DataRate; tm.CCD < burst {
		// Back-to-back column commands would overlap their data bursts.
		return fmt.Errorf("memtimingspec.%s = %d is shorter than a burst (burstLength / dataRate = %d cycles)", ccd, tm.CCD, burst)
	}
	if tm.RAS < tm.RCD {
		// A row stays open at least until it can be read or written.
		return fmt.Errorf("memtimingspec.%s = %d is shorter than RCD = %d", ras, tm.RAS, tm.RCD)
	}
	if tm.RC < tm.RAS+tm.RP {
		// A row cycle is an activate, its row active time and a precharge;
		// a shorter RC would also make the precharge energy negative.
		return fmt.Errorf("memtimingspec.%s = %d is shorter than %s + %s = %d + %d", rc, tm.RC, ras, rp, tm.RAS, tm.RP)
	}
	// The refresh interval must leave time to serve requests: a refresh
	// (RFC) and the row cycle it interrupts (RC) may take at most half of
	// it. (Real devices spend 1 to 5% of REFI in refresh; closer to RFC,
	// all-bank refresh can starve every request forever.)
	if need := 2 * (tm.RFC + tm.RC); tm.REFI < need {
		return fmt.Errorf("memtimingspec.REFI = %d is below 2 x (%s + %s) = 2 x (%d + %d) = %d: refresh would leave no time to serve requests",
			tm.REFI, rfc, rc, tm.RFC, tm.RC, need)
	}
	return nil
}

// checkDDR4 is check for DDR4 devices (bank groups, long and short timings).
func (m *MemSpec) checkDDR4() error {
	switch {
	case m.BankGroups <= 0 || m.Banks%m.BankGroups != 0:
		return fmt.Errorf("memarchitecturespec.nbrOfBankGroups %d: want a divisor of nbrOfBanks %d", m.BankGroups, m.Banks)
	case m.BurstLength != 4 && m.BurstLength != 8:
		return fmt.Errorf("memarchitecturespec.burstLength %d: a DDR4 burst is 8 (or 4, burst chop)", m.BurstLength)
	case m.DataRate != 2:
		return fmt.Errorf("memarchitecturespec.dataRate %d: DDR4 moves 2 beats per clock", m.DataRate)
	case m.Width != 4 && m.Width != 8 && m.Width != 16:
		return fmt.Errorf("memarchitecturespec.width %d: a DDR4 device is 4, 8 or 16 bits wide", m.Width)
	}
	if err := m.checkDIMM(); err != nil {
		return err
	}
	tm := &m.Timing
	if err := positive([]namedInt{
		{"CL", tm.CL}, {"RL", tm.RL}, {"WL", tm.WL}, {"RCD", tm.RCD}, {"RP", tm.RP}, {"RAS", tm.RAS},
		{"RC", tm.RC}, {"RRD_S", tm.RRD}, {"RRD_L", tm.RRDL}, {"FAW", tm.FAW}, {"CCD_S", tm.CCD}, {"CCD_L", tm.CCDL},
		{"RTP", tm.RTP}, {"WR", tm.WR}, {"WTR_S", tm.WTR}, {"WTR_L", tm.WTRL}, {"RFC", tm.RFC}, {"REFI", tm.REFI},
	}); err != nil {
		return err
	}
	for _, p := range []struct {
		long, short string
		l, s        int
	}{{"CCD_L", "CCD_S", tm.CCDL, tm.CCD}, {"RRD_L", "RRD_S", tm.RRDL, tm.RRD}, {"WTR_L", "WTR_S", tm.WTRL, tm.WTR}} {
		if p.l < p.s {
			// Within a bank group the spacing is never shorter than across groups.
			return fmt.Errorf("memtimingspec.%s = %d is shorter than %s = %d", p.long, p.l, p.short, p.s)
		}
	}
	if err := m.checkRows("CCD_S", "RAS", "RC", "RP", "RFC"); err != nil {
		return err
	}
	if err := m.checkPower(); err != nil {
		return err
	}
	p := &m.Power
	if !(p.IDD02 >= 0 && p.IDD02 <= maxCurrentMA) {
		return fmt.Errorf("mempowerspec.idd02 = %v: want a current in [0, %v] mA", p.IDD02, float64(maxCurrentMA))
	}
	if !(p.VDD2 >= 0 && p.VDD2 <= maxVDD) {
		return fmt.Errorf("mempowerspec.vdd2 = %v: want a voltage in [0, %v] V", p.VDD2, float64(maxVDD))
	}
	return nil
}

// checkLPDDR4 is check for LPDDR4 devices (timing only).
func (m *MemSpec) checkLPDDR4() error {
	switch {
	case m.BurstLength != 16 && m.BurstLength != 32:
		return fmt.Errorf("memarchitecturespec.burstLength %d: an LPDDR4 burst is 16 or 32", m.BurstLength)
	case m.DataRate != 2:
		return fmt.Errorf("memarchitecturespec.dataRate %d: LPDDR4 moves 2 beats per clock", m.DataRate)
	case m.Width != 8 && m.Width != 16:
		return fmt.Errorf("memarchitecturespec.width %d: an LPDDR4 channel is 8 or 16 bits wide", m.Width)
	}
	if err := m.checkDIMM(); err != nil {
		return err
	}
	tm := &m.Timing
	if err := positive([]namedInt{
		{"RL", tm.RL}, {"WL", tm.WL}, {"RCD", tm.RCD}, {"RPPB", tm.RP}, {"RPAB", tm.RPAB}, {"RAS", tm.RAS},
		{"RCPB", tm.RC}, {"RRD", tm.RRD}, {"FAW", tm.FAW}, {"CCD", tm.CCD}, {"RTP", tm.RTP}, {"WR", tm.WR},
		{"WTR", tm.WTR}, {"RFCAB", tm.RFC}, {"REFI", tm.REFI},
	}); err != nil {
		return err
	}
	if tm.RPAB < tm.RP {
		return fmt.Errorf("memtimingspec.RPAB = %d is shorter than RPPB = %d", tm.RPAB, tm.RP)
	}
	return m.checkRows("CCD", "RAS", "RCPB", "RPPB", "RFCAB")
}

// checkPower checks the currents and voltage of the energy model.
func (m *MemSpec) checkPower() error {
	p := &m.Power
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"idd0", p.IDD0}, {"idd2n", p.IDD2N}, {"idd3n", p.IDD3N}, {"idd4r", p.IDD4R}, {"idd4w", p.IDD4W}, {"idd5", p.IDD5},
	} {
		if !(f.v > 0 && f.v <= maxCurrentMA) {
			return fmt.Errorf("mempowerspec.%s = %v: want a current in (0, %v] mA", f.name, f.v, float64(maxCurrentMA))
		}
	}
	if !(p.VDD > 0 && p.VDD <= maxVDD) {
		return fmt.Errorf("mempowerspec.vdd = %v: want a voltage in (0, %v] V", p.VDD, float64(maxVDD))
	}
	// Each command's energy is its current above the background current.
	for _, f := range []struct {
		name, base string
		v, b       float64
	}{
		{"idd0", "idd3n", p.IDD0, p.IDD3N}, {"idd0", "idd2n", p.IDD0, p.IDD2N},
		{"idd4r", "idd3n", p.IDD4R, p.IDD3N}, {"idd4w", "idd3n", p.IDD4W, p.IDD3N}, {"idd5", "idd3n", p.IDD5, p.IDD3N},
	} {
		if f.v < f.b {
			return fmt.Errorf("mempowerspec.%s = %v is below %s = %v: the command energy would be negative", f.name, f.v, f.base, f.b)
		}
	}
	return nil
}

// utf8BOM is the byte order mark some editors put at the start of a file;
// the JSON and trace readers ignore it there.
var utf8BOM = []byte("\uFEFF")

// jsonErr adds a line number to JSON syntax errors.
func jsonErr(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	if errors.As(err, &se) {
		off = se.Offset
	} else if errors.As(err, &te) {
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	return fmt.Errorf("line %d: %w", line, err)
}

// AddressMapping gives the address bit positions of each field
// (DRAMSys "CONGEN" format). Bank group bits (DDR4) are the high bits of
// the bank number: bank = BANK_BIT value + bank group x banks per group,
// as DRAMSys's AddressDecoder numbers banks.
type AddressMapping struct {
	Name                                                   string // file base name without .json ("" when built in code)
	ByteBits, ColumnBits, BankBits, BankGroupBits, RowBits []int
}

// sameBits reports whether am and o map addresses identically.
func (am *AddressMapping) sameBits(o *AddressMapping) bool {
	return slices.Equal(am.ByteBits, o.ByteBits) && slices.Equal(am.ColumnBits, o.ColumnBits) &&
		slices.Equal(am.BankBits, o.BankBits) && slices.Equal(am.BankGroupBits, o.BankGroupBits) &&
		slices.Equal(am.RowBits, o.RowBits)
}

type mappingJSON struct {
	Congen *struct {
		Byte      []int `json:"BYTE_BIT"`
		Column    []int `json:"COLUMN_BIT"`
		Bank      []int `json:"BANK_BIT"`
		BankGroup []int `json:"BANKGROUP_BIT"`
		Row       []int `json:"ROW_BIT"`
		Rank      []int `json:"RANK_BIT"`
		Channel   []int `json:"CHANNEL_BIT"`
	} `json:"CONGEN"`
}

// defaultAddressMapping returns the embedded DDR3 DIMM row-bank-column mapping.
func defaultAddressMapping() *AddressMapping { return mustEmbeddedMapping(defaultMappingFile) }

func mustEmbeddedMapping(file string) *AddressMapping {
	data, err := dataFS.ReadFile(file)
	if err != nil {
		panic(err)
	}
	am, err := parseAddressMapping(data, file)
	if err != nil {
		panic(err)
	}
	return am
}

// DefaultMapping returns the embedded address mapping shipped with the
// reference data for the standard of m: the DDR3 and DDR4 DIMMs
// (8 x8 devices) and the LPDDR4 x16 channel.
func DefaultMapping(m *MemSpec) *AddressMapping {
	if m != nil {
		switch m.Standard {
		case DDR4:
			return mustEmbeddedMapping(ddr4MappingFile)
		case LPDDR4:
			return mustEmbeddedMapping(lpddr4MappingFile)
		}
	}
	return defaultAddressMapping()
}

// LoadAddressMapping reads a DRAMSys address-mapping JSON file; a name that
// is not a file selects an embedded mapping (see EmbeddedMappings).
func LoadAddressMapping(path string) (*AddressMapping, error) {
	data, err := readDataFile(path, EmbeddedMappings())
	if err != nil {
		return nil, fmt.Errorf("address mapping: %w", err)
	}
	return parseAddressMapping(data, path)
}

// parseAddressMapping decodes a CONGEN address mapping.
func parseAddressMapping(data []byte, file string) (*AddressMapping, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var j mappingJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("address mapping %s: %w", file, jsonErr(data, err))
	}
	if j.Congen == nil {
		return nil, fmt.Errorf("address mapping %s: missing CONGEN", file)
	}
	c := j.Congen
	am := &AddressMapping{Name: strings.TrimSuffix(filepath.Base(file), ".json"), ByteBits: c.Byte, ColumnBits: c.Column, BankBits: c.Bank, BankGroupBits: c.BankGroup, RowBits: c.Row}
	if len(am.BankBits) == 0 || len(am.RowBits) == 0 {
		return nil, fmt.Errorf("address mapping %s: BANK_BIT and ROW_BIT must be non-empty", file)
	}
	if len(c.Rank) > 0 || len(c.Channel) > 0 {
		return nil, fmt.Errorf("address mapping %s: RANK_BIT and CHANNEL_BIT not supported (one rank, one channel)", file)
	}
	for _, bits := range [][]int{am.ByteBits, am.ColumnBits, am.BankBits, am.BankGroupBits, am.RowBits} {
		for _, b := range bits {
			if b < 0 || b > 63 {
				return nil, fmt.Errorf("address mapping %s: bit %d out of range [0,63]", file, b)
			}
		}
	}
	if len(am.BankBits)+len(am.BankGroupBits) > 6 {
		return nil, fmt.Errorf("address mapping %s: at most 6 bank and bank group bits supported", file)
	}
	return am, nil
}

// LoadSystem loads the memory system named by a memspec and an address
// mapping (files, or names of embedded ones). An empty memspec selects the
// embedded DDR3-1600 device, an empty mapping the embedded mapping of the
// device's standard (DefaultMapping); both empty give nil, nil (the
// defaults of NewSimulator). Errors start with the setting at fault:
// "memspec: " or "mapping: ".
func LoadSystem(memspec, mapping string) (*MemSpec, *AddressMapping, error) {
	if memspec == "" && mapping == "" {
		return nil, nil, nil
	}
	spec := defaultMemSpec()
	if memspec != "" {
		var err error
		if spec, err = LoadMemSpec(memspec); err != nil {
			return nil, nil, fmt.Errorf("memspec: %w", err)
		}
	}
	am := DefaultMapping(spec)
	if mapping != "" {
		var err error
		if am, err = LoadAddressMapping(mapping); err != nil {
			return nil, nil, fmt.Errorf("mapping: %w", err)
		}
	}
	if err := checkMapping(spec, am); err != nil {
		return nil, nil, fmt.Errorf("mapping: %s: %w", mapping, err)
	}
	return spec, am, nil
}

// EmbeddedSystem returns the embedded device whose memoryId is id with
// its default mapping (DefaultMapping), and false when no embedded memspec
// has that id.
func EmbeddedSystem(id string) (*MemSpec, *AddressMapping, bool) {
	for _, f := range EmbeddedMemSpecs() {
		if m := mustEmbeddedMemSpec("data/" + f); m.ID == id {
			return m, DefaultMapping(m), true
		}
	}
	return nil, nil, false
}

// IsEmbeddedSystem reports whether spec and am are exactly an embedded
// device (every parsed field of the memspec equal) with the default
// mapping of its standard (the same bits); nil, nil is the embedded
// DDR3-1600 DIMM. Results computed for an embedded device (such as the
// shipped exhaustive optima) hold for such a system only: a user memspec
// may keep the memoryId of an embedded device and change its timing.
func IsEmbeddedSystem(spec *MemSpec, am *AddressMapping) bool {
	if spec == nil {
		spec = defaultMemSpec()
	}
	if am == nil {
		am = DefaultMapping(spec)
	}
	emb, def, ok := EmbeddedSystem(spec.ID)
	return ok && reflect.DeepEqual(spec, emb) && am.sameBits(def)
}

// SystemSuffix is what the name of a Space on spec and am ends with after
// its trace name: "" for the embedded DDR3-1600 DIMM, else "@" and the
// memoryId (and "+mapping" for a mapping other than the device's default).
func SystemSuffix(spec *MemSpec, am *AddressMapping) string {
	if l := systemLabel(spec, am); l != "" {
		return "@" + l
	}
	return ""
}

// systemLabel names a memory system other than the default one: the
// memoryId, and the mapping's name when it is not the device's default
// ("" for the embedded DDR3-1600 DIMM).
func systemLabel(spec *MemSpec, am *AddressMapping) string {
	label := ""
	if spec != nil && spec.ID != defaultMemSpec().ID {
		label = spec.ID
	}
	if am != nil && !am.sameBits(DefaultMapping(spec)) {
		if label == "" {
			label = defaultMemSpec().ID
		}
		name := am.Name
		if name == "" {
			name = "custom-mapping"
		}
		label += "+" + name
	}
	return label
}

// checkMapping reports a mapping that does not address the banks of m
// (DRAMSys refuses such pairs: "Memspec and address mapping do not match").
func checkMapping(m *MemSpec, am *AddressMapping) error {
	if n := 1 << uint(len(am.BankBits)+len(am.BankGroupBits)); n != m.Banks {
		return fmt.Errorf("address mapping addresses %d banks (BANK_BIT and BANKGROUP_BIT), memspec %s has nbrOfBanks %d", n, m.ID, m.Banks)
	}
	if g := 1 << uint(len(am.BankGroupBits)); g != m.BankGroups {
		return fmt.Errorf("address mapping addresses %d bank groups (BANKGROUP_BIT), memspec %s has %d", g, m.ID, m.BankGroups)
	}
	return nil
}

func extract(addr uint64, bits []int) uint32 {
	var v uint32
	for i, b := range bits {
		v |= uint32(addr>>uint(b)&1) << uint(i)
	}
	return v
}

// decode returns the bank and row of a byte address.
func (am *AddressMapping) decode(addr uint64) (bank, row uint32) {
	bank = extract(addr, am.BankBits)
	if len(am.BankGroupBits) > 0 {
		bank += extract(addr, am.BankGroupBits) << uint(len(am.BankBits))
	}
	return bank, extract(addr, am.RowBits)
}
