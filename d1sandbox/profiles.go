package d1sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// maxTrackedConsumers bounds the per-consumer request counter map.
const maxTrackedConsumers = 100000

// handleProfiles serves GET /banking/v1/issuers/{issuerId}/consumers/{consumerId}/clickToPayProfiles.
func (s *Server) handleProfiles(w http.ResponseWriter, r *http.Request) {
	s.profileRequests.Add(1)
	issuerID, consumerID := r.PathValue("issuerId"), r.PathValue("consumerId")
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
		return
	}
	switch {
	case !issuerIDPattern.MatchString(issuerID):
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_FORMAT", "issuerId")
		return
	case !consumerIDPattern.MatchString(consumerID):
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_FORMAT", "consumerId")
		return
	case r.Header.Get(d1.HeaderCorrelationID) != "" && !consumerIDPattern.MatchString(r.Header.Get(d1.HeaderCorrelationID)):
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_FORMAT", d1.HeaderCorrelationID)
		return
	case issuerID != s.opts.IssuerID:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "issuer not found"})
		return
	}
	s.mu.Lock()
	if _, ok := s.byConsumer[consumerID]; ok || len(s.byConsumer) < maxTrackedConsumers {
		s.byConsumer[consumerID]++
	}
	s.mu.Unlock()

	f := s.takeFault(consumerID)
	if !s.delay(w, r, f) {
		return
	}
	switch {
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		writeJSON(w, f.Status, map[string]string{"error": http.StatusText(f.Status)})
		return
	case f.Malformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"clickToPayProfiles":[{"scheme":"VISA","consumerInfo":{"firstName":"`))
		return
	case f.Oversized:
		writeOversized(w)
		return
	}

	if a, ok := s.answer(consumerID); ok {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
		return
	}
	customer, err := s.opts.Portfolio.CustomerByConsumerID(r.Context(), consumerID)
	switch {
	case errors.Is(err, issuerdb.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "consumer not found"})
		return
	case err != nil:
		s.log.Error("sandbox: portfolio lookup failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Internal Server Error"})
		return
	}
	profiles, _ := Derive(s.opts.Seed, customer)
	if f.AbsentDirectory != "" {
		kept := profiles[:0]
		for _, p := range profiles {
			if p.Directory != f.AbsentDirectory {
				kept = append(kept, p)
			}
		}
		profiles = kept
	}
	if f.FullPAN {
		for i := range profiles {
			for j := range profiles[i].Cards {
				c := &profiles[i].Cards[j]
				c.Last4 = FullPAN(profiles[i].Directory, c.ID, c.Last4)
			}
		}
	}
	body, err := d1.EncodeProfiles(profiles)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Internal Server Error"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// authorized checks the bearer token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[tok]
	return ok && g.issuer == s.opts.IssuerID && g.expires.After(s.opts.Now())
}

// delay applies the latency and hang parts of a fault. It returns false when the request
// ended (client gone or sandbox closed) and nothing more must be written.
func (s *Server) delay(w http.ResponseWriter, r *http.Request, f Fault) bool {
	d := f.Latency
	if f.Jitter > 0 {
		d += rand.N(f.Jitter)
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.closed:
			http.Error(w, "sandbox closing", http.StatusServiceUnavailable)
		}
		return false
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		http.Error(w, "sandbox closing", http.StatusServiceUnavailable)
		return false
	}
}

// writeOversized writes a syntactically valid profiles body of about 2 MiB.
func writeOversized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"padding":"`))
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for range 32 {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`","clickToPayProfiles":[]}`))
}

// FullPAN builds the synthetic 16-digit card number the FullPAN fault sends: a scheme prefix
// (4 for VISA, 5 otherwise), eleven digits from the card id, and the card's last four. Tests
// use it to check that no such number survives decoding.
func FullPAN(directory, cardID, last4 string) string {
	prefix := "5"
	if directory == d1.DirectoryVisa {
		prefix = "4"
	}
	var h uint64 = 14695981039346656037
	for i := 0; i < len(cardID); i++ {
		h ^= uint64(cardID[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("%s%011d%04s", prefix, h%100000000000, last4)
}
