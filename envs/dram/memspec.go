package dram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
)

// Timing holds the DDR3 timing parameters in memory clock cycles (tCK).
type Timing struct {
	CL, RL, WL, AL, RCD, RP, RAS, RC, RRD, FAW, CCD, RTP, WR, WTR int
	RFC, REFI, XP, XS, CKE, RTRS                                  int
}

// Power holds the device currents (mA) and supply voltage (V).
type Power struct {
	IDD0, IDD2N, IDD3N, IDD4R, IDD4W, IDD5, VDD float64
}

// MemSpec describes the DRAM device and DIMM (DRAMSys memspec format).
type MemSpec struct {
	ID            string
	Type          string
	BurstLength   int
	DataRate      int
	Banks         int
	Rows          int
	Columns       int
	Ranks         int
	Width         int // bits per device
	DevicesOnDIMM int
	ClockMHz      float64
	Timing        Timing
	Power         Power
}

// bytesPerBurst returns the bytes moved by one column command on the DIMM.
func (m *MemSpec) bytesPerBurst() int { return m.BurstLength * m.Width * m.DevicesOnDIMM / 8 }

type memspecJSON struct {
	Memspec *struct {
		Arch *struct {
			BurstLength   int `json:"burstLength"`
			DataRate      int `json:"dataRate"`
			Banks         int `json:"nbrOfBanks"`
			Columns       int `json:"nbrOfColumns"`
			Ranks         int `json:"nbrOfRanks"`
			Rows          int `json:"nbrOfRows"`
			Width         int `json:"width"`
			DevicesOnDIMM int `json:"nbrOfDevicesOnDIMM"`
			Channels      int `json:"nbrOfChannels"`
		} `json:"memarchitecturespec"`
		MemoryID   string `json:"memoryId"`
		MemoryType string `json:"memoryType"`
		Power      *struct {
			IDD0  float64 `json:"idd0"`
			IDD2N float64 `json:"idd2n"`
			IDD3N float64 `json:"idd3n"`
			IDD4R float64 `json:"idd4r"`
			IDD4W float64 `json:"idd4w"`
			IDD5  float64 `json:"idd5"`
			VDD   float64 `json:"vdd"`
		} `json:"mempowerspec"`
		Timing map[string]float64 `json:"memtimingspec"`
	} `json:"memspec"`
}

const defaultMemSpecFile = "data/MICRON_1Gb_DDR3-1600_8bit_G.json"
const defaultMappingFile = "data/am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json"

// defaultMemSpec returns the embedded Micron 1Gb DDR3-1600 x8 memspec.
func defaultMemSpec() *MemSpec {
	data, err := dataFS.ReadFile(defaultMemSpecFile)
	if err != nil {
		panic(err) // embedded at build time
	}
	m, err := parseMemSpec(data, defaultMemSpecFile)
	if err != nil {
		panic(err)
	}
	return m
}

// LoadMemSpec reads a DRAMSys memspec JSON file.
func LoadMemSpec(path string) (*MemSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("memspec: %w", err)
	}
	return parseMemSpec(data, path)
}

// parseMemSpec decodes a DRAMSys memspec; file is used in error messages.
// Only DDR3 devices are supported by the controller model.
func parseMemSpec(data []byte, file string) (*MemSpec, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var j memspecJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("memspec %s: %w", file, jsonErr(data, err))
	}
	if j.Memspec == nil || j.Memspec.Arch == nil || j.Memspec.Power == nil || j.Memspec.Timing == nil {
		return nil, fmt.Errorf("memspec %s: need memspec.memarchitecturespec, mempowerspec and memtimingspec", file)
	}
	a, p := j.Memspec.Arch, j.Memspec.Power
	m := &MemSpec{
		ID: j.Memspec.MemoryID, Type: j.Memspec.MemoryType,
		BurstLength: a.BurstLength, DataRate: a.DataRate, Banks: a.Banks, Rows: a.Rows,
		Columns: a.Columns, Ranks: a.Ranks, Width: a.Width, DevicesOnDIMM: a.DevicesOnDIMM,
		Power: Power{IDD0: p.IDD0, IDD2N: p.IDD2N, IDD3N: p.IDD3N, IDD4R: p.IDD4R, IDD4W: p.IDD4W, IDD5: p.IDD5, VDD: p.VDD},
	}
	if m.Type != "DDR3" { // checked first: other types have other timing keys
		return nil, fmt.Errorf("memspec %s: memoryType %q not supported (only DDR3)", file, m.Type)
	}
	if m.DevicesOnDIMM == 0 {
		m.DevicesOnDIMM = 1
	}
	if m.Ranks == 0 {
		m.Ranks = 1
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
	m.Timing = Timing{
		CL: get("CL"), RL: get("RL"), WL: get("WL"), AL: int(t["AL"]), RCD: get("RCD"), RP: get("RP"),
		RAS: get("RAS"), RC: get("RC"), RRD: get("RRD"), FAW: get("FAW"), CCD: get("CCD"),
		RTP: get("RTP"), WR: get("WR"), WTR: get("WTR"), RFC: get("RFC"), REFI: get("REFI"),
		XP: int(t["XP"]), XS: int(t["XS"]), CKE: int(t["CKE"]), RTRS: int(t["RTRS"]),
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("memspec %s: memtimingspec lacks %v", file, missing)
	}
	for k, v := range t {
		if v < 0 || v > 1e7 || v != math.Trunc(v) && k != "clkMhz" {
			return nil, fmt.Errorf("memspec %s: memtimingspec.%s = %v: want a whole number of cycles in [0, 1e7]", file, k, v)
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

// Limits of a plausible DDR3 device, used by check. A DDR3 clock is 300 to
// 1066 MHz; the limits only keep out values that make no physical sense.
const (
	minClockMHz  = 1
	maxClockMHz  = 1e4
	maxCurrentMA = 1e4 // per device
	maxVDD       = 10  // V
	maxBusBits   = 128 // width x devices: a DIMM has 64 data bits (72 with ECC)
)

// check rejects a device the simulator cannot model or that is physically
// impossible: it names the first offending field (DRAMSys JSON names).
// Every device it accepts has positive command energies, finite results,
// and leaves time between refreshes to serve requests.
func (m *MemSpec) check() error {
	switch {
	case m.Type != "DDR3":
		return fmt.Errorf("memoryType %q not supported (only DDR3)", m.Type)
	case !(m.ClockMHz >= minClockMHz && m.ClockMHz <= maxClockMHz):
		return fmt.Errorf("memtimingspec.clkMhz %v out of range [%v, %v]", m.ClockMHz, minClockMHz, maxClockMHz)
	case m.Banks <= 0 || m.Banks > 64:
		return fmt.Errorf("memarchitecturespec.nbrOfBanks %d out of range [1, 64]", m.Banks)
	case m.Ranks != 1:
		return fmt.Errorf("memarchitecturespec.nbrOfRanks %d not supported (only 1)", m.Ranks)
	case m.BurstLength != 4 && m.BurstLength != 8:
		return fmt.Errorf("memarchitecturespec.burstLength %d: a DDR3 burst is 8 (or 4, burst chop)", m.BurstLength)
	case m.DataRate != 2:
		return fmt.Errorf("memarchitecturespec.dataRate %d: DDR3 moves 2 beats per clock", m.DataRate)
	case m.Width != 4 && m.Width != 8 && m.Width != 16:
		return fmt.Errorf("memarchitecturespec.width %d: a DDR3 device is 4, 8 or 16 bits wide", m.Width)
	case m.DevicesOnDIMM <= 0 || m.Width*m.DevicesOnDIMM > maxBusBits:
		return fmt.Errorf("memarchitecturespec.nbrOfDevicesOnDIMM %d: want 1 to %d devices of width %d (a bus of at most %d bits)",
			m.DevicesOnDIMM, maxBusBits/max(m.Width, 1), m.Width, maxBusBits)
	case m.Rows < 0 || m.Columns < 0:
		return fmt.Errorf("memarchitecturespec.nbrOfRows %d / nbrOfColumns %d must not be negative", m.Rows, m.Columns)
	}
	tm := &m.Timing
	for _, f := range []struct {
		name string
		v    int
	}{
		{"CL", tm.CL}, {"RL", tm.RL}, {"WL", tm.WL}, {"RCD", tm.RCD}, {"RP", tm.RP}, {"RAS", tm.RAS},
		{"RC", tm.RC}, {"RRD", tm.RRD}, {"FAW", tm.FAW}, {"CCD", tm.CCD}, {"RTP", tm.RTP}, {"WR", tm.WR},
		{"WTR", tm.WTR}, {"RFC", tm.RFC}, {"REFI", tm.REFI},
	} {
		if f.v <= 0 {
			return fmt.Errorf("memtimingspec.%s = %d: want a positive number of cycles", f.name, f.v)
		}
	}
	if tm.AL < 0 || tm.RTRS < 0 {
		return fmt.Errorf("memtimingspec.AL (%d) and RTRS (%d) must not be negative", tm.AL, tm.RTRS)
	}
	if burst := m.BurstLength / m.DataRate; tm.CCD < burst {
		// Back-to-back column commands would overlap their data bursts.
		return fmt.Errorf("memtimingspec.CCD = %d is shorter than a burst (burstLength / dataRate = %d cycles)", tm.CCD, burst)
	}
	if tm.RAS < tm.RCD {
		// A row stays open at least until it can be read or written.
		return fmt.Errorf("memtimingspec.RAS = %d is shorter than RCD = %d", tm.RAS, tm.RCD)
	}
	if tm.RC < tm.RAS+tm.RP {
		// A row cycle is an activate, its row active time and a precharge;
		// a shorter RC would also make the precharge energy negative.
		return fmt.Errorf("memtimingspec.RC = %d is shorter than RAS + RP = %d + %d", tm.RC, tm.RAS, tm.RP)
	}
	// The refresh interval must leave time to serve requests: a refresh
	// (RFC) and the row cycle it interrupts (RC) may take at most half of
	// it. (Real DDR3 devices spend 1 to 5% of REFI in refresh; closer to
	// RFC, all-bank refresh can starve every request forever.)
	if need := 2 * (tm.RFC + tm.RC); tm.REFI < need {
		return fmt.Errorf("memtimingspec.REFI = %d is below 2 x (RFC + RC) = 2 x (%d + %d) = %d: refresh would leave no time to serve requests",
			tm.REFI, tm.RFC, tm.RC, need)
	}
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
// (DRAMSys "CONGEN" format).
type AddressMapping struct {
	ByteBits, ColumnBits, BankBits, RowBits []int
}

type mappingJSON struct {
	Congen *struct {
		Byte   []int `json:"BYTE_BIT"`
		Column []int `json:"COLUMN_BIT"`
		Bank   []int `json:"BANK_BIT"`
		Row    []int `json:"ROW_BIT"`
	} `json:"CONGEN"`
}

// defaultAddressMapping returns the embedded DDR3 DIMM row-bank-column mapping.
func defaultAddressMapping() *AddressMapping {
	data, err := dataFS.ReadFile(defaultMappingFile)
	if err != nil {
		panic(err)
	}
	am, err := parseAddressMapping(data, defaultMappingFile)
	if err != nil {
		panic(err)
	}
	return am
}

// LoadAddressMapping reads a DRAMSys address-mapping JSON file.
func LoadAddressMapping(path string) (*AddressMapping, error) {
	data, err := os.ReadFile(path)
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
	am := &AddressMapping{ByteBits: j.Congen.Byte, ColumnBits: j.Congen.Column, BankBits: j.Congen.Bank, RowBits: j.Congen.Row}
	if len(am.BankBits) == 0 || len(am.RowBits) == 0 {
		return nil, fmt.Errorf("address mapping %s: BANK_BIT and ROW_BIT must be non-empty", file)
	}
	for _, bits := range [][]int{am.ByteBits, am.ColumnBits, am.BankBits, am.RowBits} {
		for _, b := range bits {
			if b < 0 || b > 63 {
				return nil, fmt.Errorf("address mapping %s: bit %d out of range [0,63]", file, b)
			}
		}
	}
	if len(am.BankBits) > 6 {
		return nil, fmt.Errorf("address mapping %s: at most 6 bank bits supported", file)
	}
	return am, nil
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
	return extract(addr, am.BankBits), extract(addr, am.RowBits)
}
