package d1sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault describes how the sandbox misbehaves. The zero Fault is a healthy D1. A fault is set
// globally or for one consumer (SetFault, SetConsumerFault); a consumer's fault replaces the
// global one for that consumer's profile requests.
type Fault struct {
	// Latency delays every answer; Jitter adds a uniformly random extra in [0, Jitter).
	Latency time.Duration
	Jitter  time.Duration
	// Status, when 500, 503 or 429, is returned instead of the profiles. With 429 or 503,
	// RetryAfter (when positive) is sent as Retry-After in whole seconds.
	Status     int
	RetryAfter time.Duration
	// Hang keeps the request open until the client gives up (or the sandbox closes).
	Hang bool
	// Malformed answers 200 with truncated JSON.
	Malformed bool
	// Oversized answers 200 with a valid body of more than 1 MiB.
	Oversized bool
	// TokenDown makes the token endpoint answer 503 (global fault only).
	TokenDown bool
	// AbsentDirectory leaves that directory's profile out of the answer, e.g. "MASTERCARD".
	AbsentDirectory string
	// FullPAN sends full 16-digit card numbers in the last-digits field.
	FullPAN bool
	// Times limits the fault to the next Times matching requests; 0 means until cleared.
	Times int
}

// active reports whether f changes anything (a Times limit alone does not).
func (f Fault) active() bool {
	f.Times = 0
	return f != Fault{}
}

// ParseFault reads a fault from its flag/env form: comma-separated items such as
//
//	latency=200ms,jitter=50ms,status=503,retry-after=2s,hang,malformed,oversized,
//	token-down,absent=MASTERCARD,full-pan,times=3
//
// An empty string is no fault.
func ParseFault(spec string) (Fault, error) {
	var f Fault
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, hasValue := strings.Cut(item, "=")
		needValue := func() error {
			if !hasValue || value == "" {
				return fmt.Errorf("sandbox: fault %q needs a value", key)
			}
			return nil
		}
		var err error
		switch key {
		case "latency", "jitter", "retry-after":
			if err = needValue(); err != nil {
				return Fault{}, err
			}
			var d time.Duration
			if d, err = time.ParseDuration(value); err != nil || d < 0 || d > 10*time.Minute {
				return Fault{}, fmt.Errorf("sandbox: fault %s: %q is not a duration between 0 and 10m", key, value)
			}
			switch key {
			case "latency":
				f.Latency = d
			case "jitter":
				f.Jitter = d
			default:
				f.RetryAfter = d
			}
		case "status":
			if err = needValue(); err != nil {
				return Fault{}, err
			}
			n, convErr := strconv.Atoi(value)
			if convErr != nil || (n != http.StatusInternalServerError && n != http.StatusServiceUnavailable && n != http.StatusTooManyRequests) {
				return Fault{}, fmt.Errorf("sandbox: fault status: %q must be 500, 503 or 429", value)
			}
			f.Status = n
		case "times":
			if err = needValue(); err != nil {
				return Fault{}, err
			}
			n, convErr := strconv.Atoi(value)
			if convErr != nil || n < 0 || n > 1_000_000 {
				return Fault{}, fmt.Errorf("sandbox: fault times: %q is not a count", value)
			}
			f.Times = n
		case "absent":
			if err = needValue(); err != nil {
				return Fault{}, err
			}
			f.AbsentDirectory = strings.ToUpper(value)
		case "hang", "malformed", "oversized", "token-down", "full-pan":
			if hasValue {
				return Fault{}, fmt.Errorf("sandbox: fault %q takes no value", key)
			}
			switch key {
			case "hang":
				f.Hang = true
			case "malformed":
				f.Malformed = true
			case "oversized":
				f.Oversized = true
			case "token-down":
				f.TokenDown = true
			default:
				f.FullPAN = true
			}
		default:
			return Fault{}, fmt.Errorf("sandbox: unknown fault %q", key)
		}
	}
	return f, nil
}

// ParseConsumerFaults reads per-consumer faults: "consumerA=spec;consumerB=spec", each spec
// in ParseFault form with its items separated by commas.
func ParseConsumerFaults(spec string) (map[string]Fault, error) {
	out := map[string]Fault{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, faultSpec, ok := strings.Cut(part, "=")
		if !ok || id == "" {
			return nil, errors.New("sandbox: consumer fault must look like CONSUMER_ID=FAULT")
		}
		if !consumerIDPattern.MatchString(id) {
			return nil, fmt.Errorf("sandbox: consumer fault: %q is not a consumer id", id)
		}
		f, err := ParseFault(faultSpec)
		if err != nil {
			return nil, err
		}
		out[id] = f
	}
	return out, nil
}

// SetFault sets the global fault (Fault{} clears it).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.global = f
}

// SetConsumerFault sets the fault of one consumer (Fault{} clears it).
func (s *Server) SetConsumerFault(consumerID string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.active() {
		s.perConsumer[consumerID] = f
	} else {
		delete(s.perConsumer, consumerID)
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.global = Fault{}
	clear(s.perConsumer)
}

// takeFault returns the fault that applies to a request (consumerID "" for the token
// endpoint) and counts it against Times.
func (s *Server) takeFault(consumerID string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.perConsumer[consumerID]; ok && consumerID != "" {
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				delete(s.perConsumer, consumerID)
			} else {
				s.perConsumer[consumerID] = f
			}
		}
		return f
	}
	f := s.global
	if consumerID == "" && !f.TokenDown {
		// Only latency applies to the token endpoint besides TokenDown; it does not use up Times.
		return Fault{Latency: f.Latency, Jitter: f.Jitter}
	}
	if f.Times > 0 {
		s.global.Times--
		if s.global.Times == 0 {
			s.global = Fault{}
		}
	}
	return f
}
