package d1

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// correlationPattern is D1's rule for x-correlation-id (and for consumer ids).
var correlationPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidConsumerID reports whether id is a well-formed D1 consumer id (1–64 of A-Z, a-z, 0-9,
// '_' and '-').
func ValidConsumerID(id string) bool { return correlationPattern.MatchString(id) }

// CorrelationID derives the x-correlation-id from a request id: characters outside
// [A-Za-z0-9_-] are dropped and the result is cut to 64. An empty result gets a random id,
// so every D1 call carries one that support can quote.
func CorrelationID(requestID string) string {
	out := make([]byte, 0, 64)
	for i := 0; i < len(requestID) && len(out) < 64; i++ {
		c := requestID[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		var b [12]byte
		_, _ = rand.Read(b[:])
		return "ctpdesk-" + hex.EncodeToString(b[:])
	}
	return string(out)
}
