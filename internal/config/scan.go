package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ScanConfig configures the portfolio drift scan (package scan).
type ScanConfig struct {
	// Rate is the D1 calls a second the scan may make across the whole deployment, every
	// replica together (CTPDESK_SCAN_RATE, default 5). Zero lifts the cap: only `ctpdesk scan`
	// against a sandbox should run that way.
	Rate float64
	// Schedule is when the scan runs by itself, in five-field cron syntax
	// (CTPDESK_SCAN_SCHEDULE, default "0 2 * * *": nightly at 02:00 in TZ). The value "off"
	// turns the schedule off and leaves Schedule empty: the environment cannot tell a variable
	// set to nothing from one not set, so an empty value keeps the default.
	Schedule string
	// Workers is how many scan jobs one replica works at once (CTPDESK_SCAN_WORKERS, default 4).
	Workers int
	// ChunkSize is how many customers one job covers (CTPDESK_SCAN_CHUNK, default 250).
	ChunkSize int
	// JobTimeout bounds one job's run (CTPDESK_SCAN_JOB_TIMEOUT, default 10m); a job that
	// reaches it stores what it has and continues in a fresh run. A job whose replica died is
	// handed to another one after JobTimeout and a minute more.
	JobTimeout time.Duration
	// FingerprintKey keys the hashes the scan stores of compared values
	// (CTPDESK_SCAN_FINGERPRINT_KEY, hex or base64, at least 32 bytes). When unset the key is
	// derived from the audit trail's HMAC key, so a deployment needs no second secret.
	FingerprintKey Secret
}

// Scan defaults and environment variable names.
const (
	scanRateEnv        = "CTPDESK_SCAN_RATE"
	scanScheduleEnv    = "CTPDESK_SCAN_SCHEDULE"
	scanWorkersEnv     = "CTPDESK_SCAN_WORKERS"
	scanChunkEnv       = "CTPDESK_SCAN_CHUNK"
	scanJobTimeoutEnv  = "CTPDESK_SCAN_JOB_TIMEOUT"
	scanFingerprintEnv = "CTPDESK_SCAN_FINGERPRINT_KEY"

	DefaultScanRate     = 5.0
	DefaultScanSchedule = "0 2 * * *"
	maxScanRate         = 10_000.0
)

// scanConfig reads the scan settings.
func (r *envReader) scanConfig() ScanConfig {
	c := ScanConfig{
		Rate:       r.rate(scanRateEnv, DefaultScanRate),
		Schedule:   DefaultScanSchedule,
		Workers:    r.integer(scanWorkersEnv, 4, 1, 64),
		ChunkSize:  r.integer(scanChunkEnv, 250, 10, 5000),
		JobTimeout: r.duration(scanJobTimeoutEnv, 10*time.Minute, time.Second, 6*time.Hour),
	}
	if v := r.str(scanScheduleEnv, DefaultScanSchedule); strings.EqualFold(v, "off") {
		c.Schedule = ""
	} else if len(v) > 100 {
		r.fail(scanScheduleEnv, "is longer than 100 characters")
	} else if _, err := ParseSchedule(v); err != nil {
		r.fail(scanScheduleEnv, "%q is not a cron schedule such as \"0 2 * * *\" (or \"off\"): %v", v, err)
	} else {
		c.Schedule = v
	}
	if v, ok := r.raw(scanFingerprintEnv); ok {
		if _, err := decodeAuditKey(v); err != nil {
			r.fail(scanFingerprintEnv, "%v", err)
		} else {
			c.FingerprintKey = Secret(v)
		}
	}
	return c
}

// ParseSchedule reads a five-field cron schedule (minute hour day-of-month month
// day-of-week, optionally after CRON_TZ=Zone) or a descriptor such as "@daily", as River's
// periodic jobs take it. It refuses a schedule that never fires (the 30th of February) or
// fires more than once a minute ("@every 1s"): each run is a pass over the whole portfolio.
func ParseSchedule(s string) (sched cron.Schedule, err error) {
	defer func() {
		// cron v3.0.1 panics on a time zone prefix with nothing after it ("CRON_TZ=UTC").
		if r := recover(); r != nil {
			sched, err = nil, errors.New("a time zone must be followed by the five fields")
		}
	}()
	sched, err = cron.ParseStandard(s)
	if err != nil {
		return nil, err
	}
	prev := sched.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if prev.IsZero() {
		return nil, errors.New("it never fires")
	}
	for range 3 {
		next := sched.Next(prev)
		if !next.IsZero() && next.Sub(prev) < time.Minute {
			return nil, errors.New("it fires more than once a minute")
		}
		prev = next
	}
	return sched, nil
}

// FingerprintKeyBytes returns the configured fingerprint key, or nil when it is to be
// derived from the audit key.
func (c ScanConfig) FingerprintKeyBytes() []byte {
	if c.FingerprintKey == "" {
		return nil
	}
	key, err := decodeAuditKey(c.FingerprintKey.Reveal())
	if err != nil {
		// Load refused such a value already.
		return nil
	}
	return key
}

// rate reads a non-negative, finite number of calls a second.
func (r *envReader) rate(name string, def float64) float64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(name, "%q is not a number of calls a second such as 5 or 0.5", v)
		return def
	}
	if f < 0 || f > maxScanRate {
		r.fail(name, "%s is out of range [0, %s]", v, strconv.FormatFloat(maxScanRate, 'f', -1, 64))
		return def
	}
	return f
}
