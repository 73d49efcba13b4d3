package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
)

// EncodingVersion is the version of the canonical event encoding written by this code. It is
// stored with every event, so a later encoding can be introduced without breaking the
// verification of the events already written.
const EncodingVersion = 1

// GenesisHash is the previous hash of the first event of a chain: 32 zero bytes, in hex.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Domain tags keep the three kinds of digests apart, so an event encoding can never be
// mistaken for a checkpoint or a head seal.
const (
	eventTagV1      = "ctpdesk.audit.event.v1"
	checkpointTagV1 = "ctpdesk.audit.checkpoint.v1"
	headTagV1       = "ctpdesk.audit.head.v1"
)

// canonicalV1 is encoding version 1 of an event. Every field is written as a 4-byte
// big-endian length followed by its UTF-8 bytes, in this fixed order:
//
//	tag "ctpdesk.audit.event.v1", seq (decimal), time (Unix milliseconds, decimal),
//	actor issuer, actor subject, actor name, number of roles (decimal), each role,
//	action, outcome, customer id, number of details (decimal), each detail key and value
//	sorted by key (byte order), client IP, user agent, request id.
//
// Length prefixes make the encoding unambiguous: no choice of field contents can make two
// different events encode to the same bytes. Roles are encoded in the order stored; the trail
// sorts them before it stores an event.
func canonicalV1(e *Event) []byte {
	b := make([]byte, 0, 256)
	field := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	field(eventTagV1)
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(e.Time.UnixMilli(), 10))
	field(e.Actor.Issuer)
	field(e.Actor.Subject)
	field(e.Actor.Name)
	field(strconv.Itoa(len(e.Actor.Roles)))
	for _, r := range e.Actor.Roles {
		field(r)
	}
	field(string(e.Action))
	field(string(e.Outcome))
	field(e.CustomerID)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	field(strconv.Itoa(len(keys)))
	for _, k := range keys {
		field(k)
		field(e.Details[k])
	}
	field(e.ClientIP)
	field(e.UserAgent)
	field(e.RequestID)
	return b
}

// chainHash returns hex(SHA-256(prev || canonical(e))), where prev is the previous event's
// hash as raw bytes. A prevHash that is not 64 hex digits yields ok == false.
func chainHash(prevHash string, e *Event) (string, bool) {
	prev, err := hex.DecodeString(prevHash)
	if err != nil || len(prev) != sha256.Size {
		return "", false
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(canonicalV1(e))
	return hex.EncodeToString(h.Sum(nil)), true
}

// sealer computes the HMAC seals of checkpoints and of the chain head. Without the key an
// attacker who rewrites events and recomputes their SHA-256 chain cannot produce seals that
// match, which is what makes a rewrite detectable.
type sealer struct {
	key   []byte
	keyID string
}

func newSealer(key []byte) sealer {
	sum := sha256.Sum256(append([]byte("ctpdesk.audit.keyid"), key...))
	return sealer{key: key, keyID: hex.EncodeToString(sum[:8])}
}

func (s sealer) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// checkpointMAC seals checkpoint number n, which records that the event at seq had hash.
func (s sealer) checkpointMAC(n int64, kind string, seq int64, hash string, atMS int64) string {
	return s.mac(checkpointTagV1, strconv.FormatInt(n, 10), kind, strconv.FormatInt(seq, 10), hash,
		strconv.FormatInt(atMS, 10))
}

// headMAC seals the chain head: the last seq, its hash and the number of the last checkpoint,
// so neither trailing events nor trailing checkpoints can be dropped unnoticed.
func (s sealer) headMAC(seq int64, hash string, checkpointN int64) string {
	return s.mac(headTagV1, strconv.FormatInt(seq, 10), hash, strconv.FormatInt(checkpointN, 10))
}

// equalMAC compares two hex seals in constant time.
func equalMAC(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}
