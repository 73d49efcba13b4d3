package d1sandbox

import (
	"fmt"
	"net/http"
)

// Answer is a fixed answer to one consumer's profile requests, in place of the one Derive
// would build: the scenario corpus of the comparison sends the exact bodies it is about,
// unknown fields and all, and a consumer D1 does not know.
type Answer struct {
	// Status is 200 or 404.
	Status int
	// Body is sent as it is.
	Body []byte
}

// SetAnswer makes the sandbox answer every profile request for consumerID with a; faults
// (latency, errors, hangs) still apply first. An Answer with Status 0 removes the fixture.
func (s *Server) SetAnswer(consumerID string, a Answer) error {
	if !consumerIDPattern.MatchString(consumerID) {
		return fmt.Errorf("sandbox: answer: %q is not a consumer id", consumerID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch a.Status {
	case 0:
		delete(s.answers, consumerID)
	case http.StatusOK, http.StatusNotFound:
		s.answers[consumerID] = Answer{Status: a.Status, Body: append([]byte(nil), a.Body...)}
	default:
		return fmt.Errorf("sandbox: answer: status %d must be 200 or 404", a.Status)
	}
	return nil
}

// answer returns the fixed answer for a consumer, if one is set.
func (s *Server) answer(consumerID string) (Answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.answers[consumerID]
	return a, ok
}
