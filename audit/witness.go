package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Witness keeps a copy of every sealed checkpoint outside the dashboard database, so that
// emptying the trail, cutting off its end or restoring an older copy of it, which the database
// alone cannot reveal, shows when the database is verified against the witness.
//
// Append must be durable when it returns, and must only ever add: a witness never rewrites or
// drops what it holds. Read returns everything it holds, in the order it was added.
type Witness interface {
	Append(ctx context.Context, r WitnessRecord) error
	Read(ctx context.Context) (WitnessLog, error)
}

// WitnessRecord is one sealed checkpoint as a witness holds it: the checkpoint's number, kind,
// the seq and hash it seals, when it was sealed, and its HMAC seal, so a record can be checked
// under the key without the database. Prev names the record before it in the witness.
type WitnessRecord struct {
	N     int64
	Kind  string
	Seq   int64
	Hash  string
	Time  time.Time
	KeyID string
	MAC   string
	// Prev is the digest of the record before this one in the witness, GenesisHash for the
	// first. The witness sets it when it appends.
	Prev string
	// Line and Digest are set when the record is read back: where it is in the witness (1 is
	// the first line) and the SHA-256 of the record as stored, which the next record names as
	// its Prev.
	Line   int
	Digest string
}

// WitnessLog is what a witness holds, as Read returns it.
type WitnessLog struct {
	// Source names the witness in messages, e.g. its file name.
	Source string
	// Absent is true when the witness does not exist at all (its file was never created or
	// was deleted).
	Absent bool
	// Records are the well-formed records in witness order.
	Records []WitnessRecord
	// Notes name the lines that were skipped because they are no record: a line cut short by a
	// crash during a write, or damage. A skipped line breaks nothing by itself; if a record was
	// lost with it, the chain of Prev digests or the comparison with the database shows that.
	Notes []string
}

// witnessFormat is the version of the witness record encoding.
const witnessFormat = 1

// maxWitnessLine bounds one witness line; a record is about 400 bytes.
const maxWitnessLine = 4096

// witnessTimeLayout writes the sealing time in UTC with the milliseconds the seal covers.
const witnessTimeLayout = "2006-01-02T15:04:05.000Z"

// witnessLine is the JSON encoding of a record, one per line.
type witnessLine struct {
	V     int    `json:"v"`
	N     int64  `json:"n"`
	Kind  string `json:"kind"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	At    string `json:"at"`
	KeyID string `json:"key_id"`
	MAC   string `json:"mac"`
	Prev  string `json:"prev"`
}

// witnessRecordOf is the record of a sealed checkpoint.
func witnessRecordOf(c checkpoint) WitnessRecord {
	return WitnessRecord{N: c.N, Kind: c.Kind, Seq: c.Seq, Hash: c.Hash, Time: time.UnixMilli(c.AtMS).UTC(),
		KeyID: c.KeyID, MAC: c.MAC}
}

// checkpoint is the checkpoint the record claims was sealed.
func (r WitnessRecord) checkpoint() checkpoint {
	return checkpoint{N: r.N, Seq: r.Seq, Hash: r.Hash, Kind: r.Kind, AtMS: r.Time.UnixMilli(), KeyID: r.KeyID, MAC: r.MAC}
}

// sameSeal reports whether r and o record the same sealed checkpoint (wherever they sit in
// the witness).
func (r WitnessRecord) sameSeal(o WitnessRecord) bool {
	return r.checkpoint() == o.checkpoint()
}

// encode is the record's line, without the line end.
func (r WitnessRecord) encode() ([]byte, error) {
	if err := r.checkShape(); err != nil {
		return nil, err
	}
	if !isDigest(r.Prev) {
		return nil, fmt.Errorf("audit: witness record: previous digest %q is not a SHA-256 hex digest", clean(r.Prev, 80))
	}
	return json.Marshal(witnessLine{V: witnessFormat, N: r.N, Kind: r.Kind, Seq: r.Seq, Hash: r.Hash,
		At: r.Time.UTC().Format(witnessTimeLayout), KeyID: r.KeyID, MAC: r.MAC, Prev: r.Prev})
}

// checkShape refuses a record no trail could have sealed.
func (r WitnessRecord) checkShape() error {
	switch {
	case r.N < 1:
		return fmt.Errorf("audit: witness record: checkpoint number %d", r.N)
	case r.Kind != kindPeriodic && r.Kind != kindPurge:
		return fmt.Errorf("audit: witness record: unknown checkpoint kind %q", clean(r.Kind, 40))
	case r.Seq < 1:
		return fmt.Errorf("audit: witness record: seq %d", r.Seq)
	case !isDigest(r.Hash):
		return errors.New("audit: witness record: the hash is not a SHA-256 hex digest")
	case !isDigest(r.MAC):
		return errors.New("audit: witness record: the seal is not an HMAC-SHA256 hex digest")
	case r.KeyID == "" || len(r.KeyID) > 64:
		return errors.New("audit: witness record: no key id")
	case r.Time.IsZero():
		return errors.New("audit: witness record: no sealing time")
	}
	return nil
}

// parseWitnessLine decodes one line (without its line end) strictly: unknown fields, trailing
// data or a field of the wrong shape make it no record.
func parseWitnessLine(b []byte) (WitnessRecord, error) {
	if len(b) > maxWitnessLine {
		return WitnessRecord{}, errors.New("longer than any record")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l witnessLine
	if err := dec.Decode(&l); err != nil {
		return WitnessRecord{}, errors.New("not a JSON witness record")
	}
	if dec.More() {
		return WitnessRecord{}, errors.New("data after the record")
	}
	if l.V != witnessFormat {
		return WitnessRecord{}, fmt.Errorf("unknown record version %d", l.V)
	}
	at, err := time.Parse(witnessTimeLayout, l.At)
	if err != nil {
		return WitnessRecord{}, errors.New("the sealing time is not UTC with milliseconds")
	}
	r := WitnessRecord{N: l.N, Kind: l.Kind, Seq: l.Seq, Hash: l.Hash, Time: at, KeyID: l.KeyID, MAC: l.MAC, Prev: l.Prev}
	if err := r.checkShape(); err != nil {
		return WitnessRecord{}, err
	}
	if !isDigest(r.Prev) {
		return WitnessRecord{}, errors.New("the previous digest is not a SHA-256 hex digest")
	}
	r.Digest = lineDigest(b)
	return r, nil
}

// lineDigest is the SHA-256 of a witness line (without its line end), as the next record
// names it.
func lineDigest(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// isDigest reports whether s is 64 lower-case hex digits, as every hash and seal is written.
func isDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
