package issuerdb

import (
	"encoding/base64"
	"encoding/json"
)

// cursor is where the next page of a search starts: after the last row shown. It travels
// to the browser as an opaque base64 string, so it is validated on the way back in.
type cursor struct {
	Kind  Kind   `json:"k"`
	Phase int    `json:"p,omitempty"` // name search: the rank of the last row (rankFullName…rankOther)
	Len   int    `json:"l,omitempty"` // rankCompletion: the length of the last row's first and last name
	Sort  string `json:"s,omitempty"` // the ordering column of the last row (email, sort name)
	ID    string `json:"i,omitempty"` // the customer id of the last row
	Ord   int64  `json:"o,omitempty"` // SQLite name order of the last row (full-text ranks)
	Shown int    `json:"n,omitempty"` // rows on the pages before, so a page can say "21–40 of 228"
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorLen bounds the length field: no folded first and last name is longer than the
// query limit allows a completion to be.
const maxCursorLen = 4 * MaxQueryLen

func decodeCursor(s string, kind Kind) (cursor, error) {
	if s == "" {
		return cursor{Kind: kind}, nil
	}
	bad := invalid("the link to the next page is damaged or out of date: search again")
	if len(s) > 1024 {
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind || c.Phase < rankFullName || c.Phase > rankOther ||
		c.Ord < 0 || c.Len < 0 || c.Len > maxCursorLen || c.Shown < 0 || c.Shown > MaxSeedCustomers {
		return cursor{}, bad
	}
	return c, nil
}
