package dram

import (
	"errors"
	"fmt"
	"slices"
)

// Request-level figures of a run: per-request read latency (average and
// 99th percentile), bandwidth and data-bus utilisation. The reference
// (DRAMSys 4.0 as ArchGym runs it) publishes only the makespan and the
// energy, so these are not compared with it; the tests check them on tiny
// traces whose figures follow by hand from the device timings
// (reqstats_test.go).
//
// Recording is opt-in (Simulator.RecordRequests): when it is off the event
// loop only tests one nil pointer at each arrival and response.

// The request-level metric names of a Space built with request metrics
// (Space.WithRequestMetrics), written after time_ns, energy_pJ, power_mW.
const (
	MetricReadLatencyNS    = "read_latency_ns"     // mean read latency in ns
	MetricReadLatencyP99NS = "read_latency_p99_ns" // 99th-percentile read latency in ns (nearest rank)
	MetricBandwidthGbps    = "bandwidth_Gbps"      // bytes moved / makespan, in Gbit/s
	MetricUtilization      = "utilization"         // fraction of the makespan the data bus carries data
)

var requestMetrics = []string{MetricReadLatencyNS, MetricReadLatencyP99NS, MetricBandwidthGbps, MetricUtilization}

// RequestStats are the request-level figures of one run. A request's
// latency runs from the cycle it reaches the arbiter (the trace player's
// BEGIN_REQ, aligned to the memory clock) to the cycle its response
// reaches the player (BEGIN_RESP), so it includes the time a request is
// held back by a full buffer or MaxActiveTransactions.
type RequestStats struct {
	Reads, Writes int

	ReadLatencyAvgNS float64 // mean over the reads (0 without reads)
	ReadLatencyP99NS float64 // nearest-rank 99th percentile: the ceil(0.99 n)-th smallest read latency
	ReadLatencyMaxNS float64
	// Latencies in memory clock cycles (the ns figures are these times
	// the clock period); exact integers, so the percentile is exact.
	ReadLatencyP99Cycles int64
	ReadLatencyMaxCycles int64
	ReadLatencySumCycles int64

	WriteLatencyAvgNS float64 // mean over the writes (0 without writes)

	BandwidthGbps float64 // bytes moved / makespan, as Result.BandwidthGbps
	// Utilization is the fraction of the makespan during which the data bus
	// carries data: column commands x burst length / data rate (clock
	// cycles per burst) / makespan cycles; equivalently bandwidth over the
	// DIMM's peak bandwidth.
	Utilization float64
	// PeakBandwidthGbps is the DIMM's peak: bytes per burst over the burst's
	// clock cycles.
	PeakBandwidthGbps float64
}

// reqRecorder holds the arrival and response cycle of every request of
// the run.
type reqRecorder struct {
	issue, done []int64
	lat         []int64 // scratch for the percentile
}

func (r *reqRecorder) reset(n int) {
	if cap(r.issue) < n {
		r.issue, r.done = make([]int64, n), make([]int64, n)
	}
	r.issue, r.done = r.issue[:n], r.done[:n]
	for i := range n {
		r.issue[i], r.done[i] = -1, -1
	}
}

// recorder returns the recorder of the next run, or nil when s does not
// record requests.
func (s *Simulator) recorder(n int) *reqRecorder {
	if !s.RecordRequests {
		return nil
	}
	s.rec.reset(n)
	return &s.rec
}

// reqArrive: request i reaches the arbiter at cycle T.
func (st *state) reqArrive(i int32, T int64) { st.rq.issue[i] = T }

// reqDone: the response of request i reaches the player at cycle T.
func (st *state) reqDone(i int32, T int64) { st.rq.done[i] = T }

// RequestStats returns the request-level figures of the last successful
// Run; it is an error unless RecordRequests was set for that run.
func (s *Simulator) RequestStats() (RequestStats, error) {
	st := &s.st
	if st.rq == nil || len(st.rq.issue) != st.tr.n || st.tr.n == 0 {
		return RequestStats{}, errors.New("dram: no request statistics: set Simulator.RecordRequests before Run")
	}
	return st.requestStats(s.spec)
}

func (st *state) requestStats(spec *MemSpec) (RequestStats, error) {
	r := st.rq
	var out RequestStats
	r.lat = r.lat[:0]
	var wsum int64
	for i := range st.tr.n {
		if r.issue[i] < 0 || r.done[i] < r.issue[i] {
			return out, errors.New("dram: request statistics incomplete (the run did not finish)")
		}
		l := r.done[i] - r.issue[i]
		if st.tr.req[i].write {
			out.Writes++
			wsum += l
		} else {
			out.Reads++
			r.lat = append(r.lat, l)
			out.ReadLatencySumCycles += l
		}
	}
	tckNS := float64(st.tr.tckPS) / 1000
	if n := len(r.lat); n > 0 {
		slices.Sort(r.lat)
		k := (99*n + 99) / 100 // ceil(0.99 n), in integers
		out.ReadLatencyP99Cycles = r.lat[k-1]
		out.ReadLatencyMaxCycles = r.lat[n-1]
		out.ReadLatencyAvgNS = float64(out.ReadLatencySumCycles) / float64(n) * tckNS
		out.ReadLatencyP99NS = float64(out.ReadLatencyP99Cycles) * tckNS
		out.ReadLatencyMaxNS = float64(out.ReadLatencyMaxCycles) * tckNS
	}
	if out.Writes > 0 {
		out.WriteLatencyAvgNS = float64(wsum) / float64(out.Writes) * tckNS
	}
	burstCycles := float64(spec.BurstLength) / float64(spec.DataRate)
	out.PeakBandwidthGbps = float64(st.tr.burstBytes) * 8 / (burstCycles * tckNS)
	cols := st.energy.nRd + st.energy.nWr
	if mk := st.player.lastResp; mk > 0 {
		out.Utilization = float64(cols) * burstCycles / float64(mk)
		out.BandwidthGbps = float64(cols) * float64(st.tr.burstBytes) * 8 / (float64(mk) * tckNS)
	}
	return out, nil
}

// WithRequestMetrics returns the design space of the same trace and memory
// system whose metrics add read_latency_ns, read_latency_p99_ns,
// bandwidth_Gbps and utilization to time_ns, energy_pJ and power_mW (each
// evaluation then records its requests). A trace without reads is
// refused: its read latency is undefined.
func (s *Space) WithRequestMetrics() (*Space, error) {
	if s.opt.RequestMetrics {
		return s, nil
	}
	if s.trace.NumWrites() == len(s.trace.Requests) {
		return nil, fmt.Errorf("dram space: trace %s has no reads, so no read latency", s.trace.Name)
	}
	opt := s.opt
	opt.RequestMetrics = true
	return newSpace(s.trace, opt)
}

// RequestMetrics reports whether s has the request metrics.
func (s *Space) RequestMetrics() bool { return s.opt.RequestMetrics }

// putRequestMetrics writes the request metrics of sim's last run after the
// first len(spaceMetrics) values of out.
func (s *Space) putRequestMetrics(sim *Simulator, out []float64) error {
	if len(out) < len(spaceMetrics)+len(requestMetrics) {
		return fmt.Errorf("dram: metric buffer of %d, want %d", len(out), len(spaceMetrics)+len(requestMetrics))
	}
	rs, err := sim.RequestStats()
	if err != nil {
		return err
	}
	o := out[len(spaceMetrics):]
	o[0], o[1], o[2], o[3] = rs.ReadLatencyAvgNS, rs.ReadLatencyP99NS, rs.BandwidthGbps, rs.Utilization
	return nil
}
