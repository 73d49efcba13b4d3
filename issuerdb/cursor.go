package issuerdb

import (
	"encoding/base64"
	"encoding/json"
)

// cursor is where the next page of a search starts: after the last row shown. It travels
// to the browser as an opaque base64 string, so it is validated on the way back in.
type cursor struct {
	Kind  Kind   `json:"k"`
	Phase int    `json:"p,omitempty"` // name search: 0 exact full-name matches, 1 prefix matches
	Sort  string `json:"s,omitempty"` // the ordering column of the last row (email, sort name)
	ID    string `json:"i,omitempty"` // the customer id of the last row
	Ord   int64  `json:"o,omitempty"` // SQLite name order of the last row (phase 1)
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

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
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind || c.Phase < 0 || c.Phase > 1 || c.Ord < 0 {
		return cursor{}, bad
	}
	return c, nil
}
