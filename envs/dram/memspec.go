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
	if m.Type != "DDR3" {
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
	switch {
	case !(m.ClockMHz > 0 && m.ClockMHz <= 1e5):
		return nil, fmt.Errorf("memspec %s: memtimingspec.clkMhz %v out of range (0, 1e5]", file, m.ClockMHz)
	case m.Banks <= 0 || m.Banks > 64:
		return nil, fmt.Errorf("memspec %s: nbrOfBanks %d out of range [1,64]", file, m.Banks)
	case m.Ranks != 1:
		return nil, fmt.Errorf("memspec %s: nbrOfRanks %d not supported (only 1)", file, m.Ranks)
	case m.BurstLength <= 0 || m.BurstLength%2 != 0 || m.BurstLength > 1024:
		return nil, fmt.Errorf("memspec %s: burstLength %d must be even, in [2, 1024]", file, m.BurstLength)
	case m.DataRate <= 0 || m.DataRate > m.BurstLength:
		return nil, fmt.Errorf("memspec %s: dataRate %d must be in [1, burstLength]", file, m.DataRate)
	case m.Width <= 0 || m.DevicesOnDIMM <= 0:
		return nil, fmt.Errorf("memspec %s: width and nbrOfDevicesOnDIMM must be > 0", file)
	case m.Power.VDD <= 0:
		return nil, fmt.Errorf("memspec %s: mempowerspec.vdd must be > 0", file)
	case m.Timing.REFI <= 0 || m.Timing.RC <= 0:
		return nil, fmt.Errorf("memspec %s: REFI and RC must be > 0", file)
	}
	return m, nil
}

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
