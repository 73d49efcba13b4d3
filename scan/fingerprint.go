package scan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"
)

// MinKeyLen is the shortest fingerprint key accepted.
const MinKeyLen = 32

// fingerprintBytes is how much of each HMAC-SHA256 is kept: 48 bits tell whether one of a
// customer's few dozen values changed with no practical chance of a collision, in eight
// characters, so a million customers' rows stay small.
const fingerprintBytes = 6

// DeriveFingerprintKey derives the fingerprint key from the audit trail's HMAC key, for a
// deployment that sets no key of its own. The label keeps the two uses apart: a fingerprint
// never helps forge a checkpoint, nor the other way round.
func DeriveFingerprintKey(auditKey []byte) []byte {
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte("ctpdesk scan fingerprint key v1"))
	return m.Sum(nil)
}

// fingerprinter hashes normalised values with a secret key, so the stored fingerprints say
// whether a value changed without letting anyone who reads the table guess the value (an
// unkeyed hash of an email address or a phone number is guessed by trying them all).
type fingerprinter struct {
	pool sync.Pool
}

func newFingerprinter(key []byte) (*fingerprinter, error) {
	if len(key) < MinKeyLen {
		return nil, errors.New("scan: the fingerprint key must be at least 32 bytes")
	}
	key = slices.Clone(key)
	return &fingerprinter{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}, nil
}

// sum is the fingerprint of one compared value: its key ("email@VISA") is hashed with it, so
// equal values of two fields or directories do not show as equal, and a stored fingerprint
// names its field without storing the name.
func (f *fingerprinter) sum(key, normalised string) string {
	m := f.pool.Get().(hash.Hash)
	defer f.pool.Put(m)
	m.Reset()
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(normalised))
	var buf [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(buf[:0])[:fingerprintBytes])
}

// encodeFingerprints writes the fingerprints as one string of fixed-width tokens, sorted,
// without their keys: each token already binds its key, so a later scan tells which fields
// changed by computing its own tokens and looking them up, and the row holds eight characters
// a value instead of fifty.
func encodeFingerprints(fps map[string]string) string {
	tokens := slices.Sorted(maps.Values(fps))
	return strings.Join(tokens, "")
}

// digest is one fingerprint over all of a customer's: it changes when any compared value,
// directory state or finding does.
func (f *fingerprinter) digest(o Outcome) string {
	var b strings.Builder
	b.WriteString(encodeFingerprints(o.Fingerprints))
	for _, d := range o.Directories {
		b.WriteString("|" + d.Directory + ":" + d.State)
	}
	for _, k := range findingKinds(o) {
		b.WriteString("|" + k)
	}
	return f.sum("digest", b.String())
}

// findingKinds lists an outcome's distinct finding kinds, sorted.
func findingKinds(o Outcome) []string {
	var out []string
	for _, fd := range o.Findings {
		out = append(out, fd.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
