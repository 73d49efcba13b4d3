package mask

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestMaskEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"john@example.com", "j•••@example.com"},
		{"J.Smith+cards@Example.CO.UK", "J•••@Example.CO.UK"},
		{"a@b.c", "a•••@b.c"},
		{"zoë.müller@example.de", "z•••@example.de"},
		{"élodie@example.fr", "é•••@example.fr"},
		{"@example.com", "•••@example.com"},
		{"no-at-sign", "n•••"},
		{"", ""},
		{"\xff\xfe@example.com", "•••@example.com"},
		{strings.Repeat("x", 300) + "@example.com", "x•••@example.com"},
	} {
		if got := MaskEmail(tc.in); got != tc.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+447700900123", "+44 •••• ••0123"},
		{"+33612345678", "+33 ••• ••5678"},
		{"+4915121234567", "+49 ••••• ••4567"},
		{"+14155550123", "+1 •••• ••0123"},
		{"+4741234567", "+47 •• ••4567"},
		{"+35312345", "+353 •2345"},
		{"07700900123", "•••••••0123"},
		{"123", "••••"},
		{"", ""},
		{"+", "••••"},
		{"not a number", "••••"},
		{"+44abc", "••••"},
	} {
		got := MaskPhone(tc.in)
		if got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.in != "" && len(tc.in) > 4 && strings.Contains(got, tc.in[:len(tc.in)-4]) && len(tc.in) > 8 {
			t.Errorf("MaskPhone(%q) = %q reveals the number", tc.in, got)
		}
	}
}

// phoneInputs generates the numbers the masking equivalence is checked over: every assigned
// calling code with every national length from none to twenty digits, and hostile text made
// of digits, plus signs, separators, letters, other scripts' digits and broken UTF-8.
func phoneInputs(r *rand.Rand) []string {
	var out []string
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		for n := 0; n <= 20; n++ {
			for range 3 {
				out = append(out, "+"+strconv.Itoa(cc)+digits(n))
			}
			out = append(out, "+"+strconv.Itoa(cc)+"0"+digits(n), "+"+strconv.Itoa(cc)+strings.Repeat("0", n))
		}
	}
	// Unassigned codes, a leading zero, and every short or long run of digits.
	for n := 0; n <= 22; n++ {
		out = append(out, "+"+digits(n), "+0"+digits(n), "+999"+digits(n), digits(n), "++"+digits(n), "+"+strings.Repeat("9", n))
	}
	pieces := []string{"+", "+", "0", "1", "4", "7", "9", "12", "44", "7700", " ", "-", "(", ")", ".", "/", "x", "ext",
		";ext=", "#", "*", "tel:", ";phone-context=", "a", "Z", "FLOWERS", "＋", "４", "٤", "۴", "\u00a0", "\xff", "\xc3",
		"é", "@", ",", ";", "%", "\x00"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		out = append(out, b.String())
	}
	return append(out, "", "+", "+44", "+447", "+4477", strings.Repeat("1", 250), "+"+strings.Repeat("1", 249),
		"+"+strings.Repeat("1", 250), "+44"+strings.Repeat("7", 300), "+1 800 FLOWERS", "+44 7700 900123",
		"+447700900123x12", "tel:+447700900123;phone-context=+44", "+44\u00a07700900123", "+４４7700900123")
}

// TestMaskPhoneCanonicalMatchesTheParse checks that masking a stored number without the full
// phone-number parse gives, byte for byte, what masking through the parse gives, over every
// calling code and length and over hostile text, and that stored numbers do take that path.
func TestMaskPhoneCanonicalMatchesTheParse(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2026))
	canonical := 0
	for _, in := range phoneInputs(r) {
		if got, want := MaskPhone(in), maskParsed(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, through the parse %q", in, got, want)
		}
		if _, ok := maskCanonical(in); ok {
			canonical++
		}
	}
	if canonical < 10000 {
		t.Errorf("only %d inputs took the path without the parse", canonical)
	}
	for _, in := range []string{"+447700900123", "+33612345678", "+4915121234567", "+14155550123", "+35312345", "+8613812345678"} {
		if _, ok := maskCanonical(in); !ok {
			t.Errorf("maskCanonical(%q) fell back to the parse", in)
		}
	}
}

// TestPhoneMetadataLengthsAreAtLeastTwo guards what maskCanonical relies on: the parse strips a
// national prefix only when what remains has a possible length of its region, so no success
// of the parse can depend on more than the number of digits after the calling code as long
// as no region's shortest possible length is below the parse's own minimum of two.
func TestPhoneMetadataLengthsAreAtLeastTwo(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	if len(coll.GetMetadata()) < 200 {
		t.Fatalf("%d regions of metadata, want the whole world", len(coll.GetMetadata()))
	}
	for _, m := range coll.GetMetadata() {
		for _, l := range m.GetGeneralDesc().GetPossibleLength() {
			if l != -1 && l < 2 {
				t.Errorf("region %s (+%d) has possible length %d", m.GetId(), m.GetCountryCode(), l)
			}
		}
	}
}

func BenchmarkMaskPhone(b *testing.B) {
	for name, mask := range map[string]func(string) string{"canonical": MaskPhone, "parsed": maskParsed} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				mask("+447700900123")
			}
		})
	}
}
