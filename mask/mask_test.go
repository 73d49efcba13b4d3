package mask

import (
	"strings"
	"testing"
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
