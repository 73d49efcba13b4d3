package d1_test

import (
	"regexp"
	"strings"
	"testing"

	"ctpdesk/d1"
)

// FuzzDecodeProfiles checks the response decoder never panics, never keeps more than four
// card-number digits, and never quotes long digit runs from the body in its errors. CI runs
// the seed corpus in testdata/fuzz/FuzzDecodeProfiles with go test.
func FuzzDecodeProfiles(f *testing.F) {
	f.Add([]byte(exampleBody))
	f.Add([]byte(`{"clickToPayProfiles":[]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"clickToPayProfiles":[{"cards":[{"panLastDigits":4111111111111111}]}]}`))
	digits := regexp.MustCompile(`[0-9]{13,}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, err := d1.DecodeProfiles(body)
		if err != nil {
			for _, run := range digits.FindAllString(string(body), -1) {
				if strings.Contains(err.Error(), run) {
					t.Fatalf("error %q quotes %q from the body", err, run)
				}
			}
			return
		}
		for _, p := range ps {
			for _, c := range p.Cards {
				if len(c.Last4) > 4 || strings.Trim(c.Last4, "0123456789") != "" {
					t.Fatalf("Last4 %q", c.Last4)
				}
			}
		}
		// What decodes must survive an encode/decode round trip.
		enc, err := d1.EncodeProfiles(ps)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d1.DecodeProfiles(enc); err != nil {
			t.Fatalf("re-decoding our own encoding: %v", err)
		}
	})
}
