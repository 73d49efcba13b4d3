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

// fingerprintBytes is how much of each HMAC-SHA256 is kept: 72 bits tell a changed value from
// an unchanged one with no practical chance of a collision, and keep a million customers'
// rows small.
const fingerprintBytes = 9

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

// sum is the fingerprint of one field's normalised value. The field name is hashed with it, so
// equal values of two fields do not show as equal.
func (f *fingerprinter) sum(field, normalised string) string {
	m := f.pool.Get().(hash.Hash)
	defer f.pool.Put(m)
	m.Reset()
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(normalised))
	var buf [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(buf[:0])[:fingerprintBytes])
}

// encodeFingerprints writes the fingerprints as "key=fp;key=fp" in key order.
func encodeFingerprints(fps map[string]string) string {
	keys := slices.Sorted(maps.Keys(fps))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(fps[k])
	}
	return b.String()
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
