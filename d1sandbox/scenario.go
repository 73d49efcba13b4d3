package d1sandbox

import (
	"crypto/sha256"
	"encoding/binary"
)

// Kind is the broad shape of what the sandbox's directories hold for a consumer compared with
// the issuer record.
type Kind string

// Scenario kinds and their shares of consumers (by the consumer-id hash, see ScenarioFor).
const (
	// KindMatch (60 %): every directory profile equals the issuer record.
	KindMatch Kind = "match"
	// KindDiffers (25 %): one directory differs in one to three fields (see Field* changes).
	KindDiffers Kind = "differs"
	// KindRisk (5 %): one fraud-relevant conflict (see Risk).
	KindRisk Kind = "risk"
	// KindNoCard (5 %): the consumer is enrolled in its directories but holds no card there.
	KindNoCard Kind = "no-card"
	// KindNotEnrolled (5 %): 200 with an empty list.
	KindNotEnrolled Kind = "not-enrolled"
)

// Risk is the flavour of a KindRisk scenario.
type Risk string

// Risk flavours.
const (
	// RiskClosedCardActive: a card lost, stolen or closed at the issuer is ACTIVE in its
	// directory.
	RiskClosedCardActive Risk = "closed-card-active"
	// RiskUnknownCard: a directory holds an ACTIVE card the issuer does not know.
	RiskUnknownCard Risk = "unknown-card"
	// RiskContactTakeover: email and phone both changed, only in one directory.
	RiskContactTakeover Risk = "contact-takeover"
)

// riskOrder is the order in which flavours are tried from the preferred one on.
var riskOrder = [...]Risk{RiskClosedCardActive, RiskUnknownCard, RiskContactTakeover}

// Scenario is the part of a consumer's sandbox behaviour that depends on the consumer id and
// the seed alone. Derive combines it with the issuer record to build the profiles.
type Scenario struct {
	ConsumerID string
	Kind       Kind
	// Risk is the preferred flavour for KindRisk (Derive falls back to the next applicable one).
	Risk Risk
	// draws are the random numbers every later choice is made from, in a fixed order.
	draws [8]uint64
}

// Draw indices: each choice has its own draw so that they are independent.
const (
	drawKind = iota
	drawRisk
	drawOneDirectory
	drawWhichDirectory
	drawExtraDirectory
	drawChangeCount
	drawChangePick
	drawValues
)

// ScenarioFor derives a consumer's scenario from the seed and the consumer id:
//
//	h = SHA-256(seed as 8 bytes little-endian || consumerID)
//	draws[i] = splitmix64 sequence seeded with the first 8 bytes of h (little-endian)
//	kind by draws[0] % 100: 0–59 match, 60–84 differs, 85–89 risk, 90–94 no-card, 95–99 not-enrolled
//	risk flavour by draws[1] % 3 in the order closed-card-active, unknown-card, contact-takeover
//
// The function is pure: tests and the comparison code call it to know what to expect.
func ScenarioFor(seed int64, consumerID string) Scenario {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(seed))
	h := sha256.New()
	h.Write(buf[:])
	h.Write([]byte(consumerID))
	sum := h.Sum(nil)
	state := binary.LittleEndian.Uint64(sum[:8])
	s := Scenario{ConsumerID: consumerID}
	for i := range s.draws {
		state, s.draws[i] = splitmix64(state)
	}
	switch b := s.draws[drawKind] % 100; {
	case b < 60:
		s.Kind = KindMatch
	case b < 85:
		s.Kind = KindDiffers
	case b < 90:
		s.Kind = KindRisk
	case b < 95:
		s.Kind = KindNoCard
	default:
		s.Kind = KindNotEnrolled
	}
	if s.Kind == KindRisk {
		s.Risk = riskOrder[s.draws[drawRisk]%uint64(len(riskOrder))]
	}
	return s
}

// splitmix64 advances the state and returns the next value (Steele, Lea, Flood 2014): small,
// fast and fully specified, so derivations never change with a Go release.
func splitmix64(state uint64) (uint64, uint64) {
	state += 0x9E3779B97F4A7C15
	z := state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return state, z ^ (z >> 31)
}
