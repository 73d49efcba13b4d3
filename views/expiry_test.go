package views

import "testing"

func TestExpiryOf(t *testing.T) {
	for _, tc := range []struct {
		month, year int
		want        string
	}{
		{3, 2028, "03/28"},
		{12, 2030, "12/30"},
		{1, 2000, "01/00"},
		{8, 28, "08/28"},
		{0, 2028, ""},
		{13, 2028, ""},
		{5, -1, ""},
	} {
		if got := ExpiryOf(tc.month, tc.year); got != tc.want {
			t.Errorf("ExpiryOf(%d, %d) = %q, want %q", tc.month, tc.year, got, tc.want)
		}
	}
}

func TestExpiry(t *testing.T) {
	for in, want := range map[string]string{
		"0328":    "03/28",
		"1200":    "12/00",
		"2028-03": "2028-03", // another form is shown as sent
		"03/2028": "03/2028",
		"1328":    "1328", // no such month: not dressed up as a date
		"03a8":    "03a8",
		"":        "",
		"032":     "032",
	} {
		if got := Expiry(in); got != want {
			t.Errorf("Expiry(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ExpiryText("0328"); got != " · expires 03/28" {
		t.Errorf("the card matrix writes %q", got)
	}
}
