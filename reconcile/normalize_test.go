package reconcile

import (
	"encoding/json"
	"os"
	"testing"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// verdictCase is one comparison rule and what it must decide.
type verdictCase struct {
	name        string
	issuer, dir string
	want        Verdict
	reason      Reason
}

// runVerdicts checks a comparer against a table, through compareOne so that the presence
// rules are covered for every field kind.
func runVerdicts(t *testing.T, cmp comparer, cases []verdictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, r := compareOne(tc.issuer, tc.dir, cmp)
			if v != tc.want || r != tc.reason {
				t.Errorf("compare(%q, %q) = %s/%q, want %s/%q", tc.issuer, tc.dir, v, r, tc.want, tc.reason)
			}
		})
	}
}

func TestCompareText(t *testing.T) {
	runVerdicts(t, compareText, []verdictCase{
		{"identical", "Zoë", "Zoë", Match, ReasonNone},
		{"both blank", "", "  ", Match, ReasonNone},
		{"missing in directory", "Rose", "", MissingInDirectory, ReasonNone},
		{"missing at issuer", " ", "Rose", MissingAtIssuer, ReasonNone},
		{"NFD against NFC", "Zoe\u0308", "Zoë", Equivalent, ReasonFormat},
		{"surrounding space", "Amelia", " Amelia ", Equivalent, ReasonWhitespace},
		{"inner space runs and tabs", "Mary Ann", "Mary \t Ann", Equivalent, ReasonWhitespace},
		{"case", "Hartmann", "HARTMANN", Equivalent, ReasonCase},
		{"sharp s folds to ss", "Strauß", "STRAUSS", Equivalent, ReasonCase},
		{"case and space name the later step", " hartmann", "HARTMANN", Equivalent, ReasonCase},
		{"diaeresis", "Zoë", "Zoe", Equivalent, ReasonDiacritics},
		{"stacked Vietnamese marks", "Nguyễn", "Nguyen", Equivalent, ReasonDiacritics},
		{"stroke L", "Łukasz", "Lukasz", Equivalent, ReasonDiacritics},
		{"slashed O", "Øyvind", "Oyvind", Equivalent, ReasonDiacritics},
		{"fada and case together", "Siobhán", "SIOBHAN", Equivalent, ReasonDiacritics},
		{"ash ligature", "Ærø", "AEro", Equivalent, ReasonDiacritics},
		{"different name", "Zoë", "Chloe", Differs, ReasonNone},
		{"address line moved", "10 Downing Lane", "Flat 2", Differs, ReasonNone},
	})
}

func TestCompareEmail(t *testing.T) {
	runVerdicts(t, compareEmail, []verdictCase{
		{"identical", "amelia@example.com", "amelia@example.com", Match, ReasonNone},
		{"surrounding space", "amelia@example.com", " amelia@example.com\n", Equivalent, ReasonWhitespace},
		{"case", "amelia@example.com", "Amelia@Example.COM", Equivalent, ReasonCase},
		{"different mailbox", "amelia@example.com", "a.hartmann@example.org", Differs, ReasonNone},
		{"missing in directory", "amelia@example.com", "", MissingInDirectory, ReasonNone},
	})
}

func TestComparePhone(t *testing.T) {
	runVerdicts(t, phoneComparer("GB"), []verdictCase{
		{"identical E.164", "+447700900123", "+447700900123", Match, ReasonNone},
		{"spaced international", "+447700900123", "+44 7700 900123", Equivalent, ReasonFormat},
		{"national with trunk zero, customer's region", "+447700900123", "07700 900123", Equivalent, ReasonFormat},
		{"dashes and brackets", "+447700900123", "+44 (0)7700-900-123", Equivalent, ReasonFormat},
		{"another number", "+447700900123", "+447700900999", Differs, ReasonNone},
		{"same national digits, other country", "+447700900123", "+337700900123", Differs, ReasonNone},
		{"garbage", "+447700900123", "call me", Differs, ReasonNone},
	})
	// The default region comes from the customer: a French national number is equivalent only
	// for a French customer.
	runVerdicts(t, phoneComparer("FR"), []verdictCase{
		{"French national", "+33612345678", "06 12 34 56 78", Equivalent, ReasonFormat},
	})
	runVerdicts(t, phoneComparer("DE"), []verdictCase{
		{"French national read as German", "+33612345678", "06 12 34 56 78", Differs, ReasonNone},
	})
}

func TestCompareLanguage(t *testing.T) {
	runVerdicts(t, compareLanguage, []verdictCase{
		{"identical", "en-GB", "en-GB", Match, ReasonNone},
		{"underscore", "en-GB", "en_GB", Equivalent, ReasonLanguageFormat},
		{"lower-case region", "en-GB", "en-gb", Equivalent, ReasonLanguageFormat},
		{"other region", "en-GB", "en-US", Differs, ReasonNone},
		{"other language", "en-GB", "fr-FR", Differs, ReasonNone},
		{"not a tag", "en-GB", "english", Differs, ReasonNone},
	})
}

func TestComparePostalCode(t *testing.T) {
	runVerdicts(t, comparePostalCode, []verdictCase{
		{"identical", "SW1A 2AA", "SW1A 2AA", Match, ReasonNone},
		{"no space", "SW1A 2AA", "SW1A2AA", Equivalent, ReasonPostalFormat},
		{"lower case", "SW1A 2AA", "sw1a 2aa", Equivalent, ReasonPostalFormat},
		{"other code", "SW1A 2AA", "SW1A 2AB", Differs, ReasonNone},
		{"hyphen is not a space", "12345-678", "12345678", Differs, ReasonNone},
	})
}

func TestCompareCountry(t *testing.T) {
	runVerdicts(t, compareCountry, []verdictCase{
		{"identical", "GB", "GB", Match, ReasonNone},
		{"alpha-3", "GB", "GBR", Equivalent, ReasonCountryCode},
		{"alpha-3 lower case", "DE", "deu", Equivalent, ReasonCountryCode},
		{"case only", "FR", "fr", Equivalent, ReasonCase},
		{"other country", "GB", "IRL", Differs, ReasonNone},
		{"unknown code", "GB", "XYZ", Differs, ReasonNone},
		{"a name, not a code", "GB", "United Kingdom", Differs, ReasonNone},
	})
}

// TestNormalizeCountryFullTable checks every ISO 3166-1 country against the table Debian ships
// in iso-codes, so that no alpha-3 code falls through.
func TestNormalizeCountryFullTable(t *testing.T) {
	raw, err := os.ReadFile("/usr/share/iso-codes/json/iso_3166-1.json")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("iso-codes table: %v", err)
		}
		t.Skipf("iso-codes not installed: %v", err)
	}
	var table struct {
		Countries []struct {
			Alpha2 string `json:"alpha_2"`
			Alpha3 string `json:"alpha_3"`
		} `json:"3166-1"`
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Countries) < 249 {
		t.Fatalf("iso-codes lists %d countries, want at least 249", len(table.Countries))
	}
	for _, c := range table.Countries {
		if got := NormalizeCountry(c.Alpha3); got != c.Alpha2 {
			t.Errorf("NormalizeCountry(%q) = %q, want %q", c.Alpha3, got, c.Alpha2)
		}
		if got := NormalizeCountry(c.Alpha2); got != c.Alpha2 {
			t.Errorf("NormalizeCountry(%q) = %q, want %q", c.Alpha2, got, c.Alpha2)
		}
	}
}

func TestCompareExpiry(t *testing.T) {
	runVerdicts(t, compareExpiry, []verdictCase{
		{"identical MMYY", "0828", "0828", Match, ReasonNone},
		{"slash", "0828", "08/28", Equivalent, ReasonFormat},
		{"four-digit year", "0828", "08/2028", Equivalent, ReasonFormat},
		{"ISO year-month", "0828", "2028-08", Equivalent, ReasonFormat},
		{"renewed at the issuer", "0830", "0828", Differs, ReasonNone},
		{"month 13", "0828", "1328", Differs, ReasonNone},
		{"text", "0828", "soon", Differs, ReasonNone},
	})
}

func TestCompareStatus(t *testing.T) {
	runVerdicts(t, compareStatus, []verdictCase{
		{"same state, each system's case", "active", "ACTIVE", Match, ReasonNone},
		{"blocked is suspended in the directory's words", "blocked", "SUSPENDED", Match, ReasonNone},
		{"closed is deleted in the directory's words", "closed", "DELETED", Match, ReasonNone},
		{"blocked but active", "blocked", "ACTIVE", Differs, ReasonNone},
		{"stolen but active", "stolen", "ACTIVE", Differs, ReasonNone},
		{"unknown directory value", "active", "SOMETHING_NEW", Differs, ReasonNone},
	})
}

func TestCompareSets(t *testing.T) {
	tests := []struct {
		name        string
		issuer, dir []string
		want        Verdict
		reason      Reason
	}{
		{"both empty", nil, nil, Match, ReasonNone},
		{"only the directory", nil, []string{"a@x.org"}, MissingAtIssuer, ReasonNone},
		{"only the issuer", []string{"a@x.org"}, nil, MissingInDirectory, ReasonNone},
		{"one each, equal", []string{"a@x.org"}, []string{"a@x.org"}, Match, ReasonNone},
		{"repeats do not matter", []string{"a@x.org"}, []string{"a@x.org", "a@x.org"}, Match, ReasonNone},
		{"same mailbox twice in two cases", []string{"a@x.org"}, []string{"A@x.org", "a@x.org"}, Equivalent, ReasonCase},
		{"an extra mailbox in the directory", []string{"a@x.org"}, []string{"a@x.org", "b@x.org"}, Differs, ReasonNone},
		{"order does not matter", []string{"a@x.org", "b@x.org"}, []string{"b@x.org", "a@x.org"}, Match, ReasonNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, r := compareSets(tc.issuer, tc.dir, compareEmail)
			if v != tc.want || r != tc.reason {
				t.Errorf("compareSets(%q, %q) = %s/%q, want %s/%q", tc.issuer, tc.dir, v, r, tc.want, tc.reason)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	tests := []struct {
		in          string
		month, year int
		ok          bool
	}{
		{"0828", 8, 28, true},
		{"08/28", 8, 28, true},
		{"08-2028", 8, 2028, true},
		{"2028/08", 8, 2028, true},
		{"0028", 0, 0, false},
		{"08/2", 0, 0, false},
		{"", 0, 0, false},
		{"０８２８", 0, 0, false},
	}
	for _, tc := range tests {
		m, y, ok := parseExpiry(tc.in)
		if m != tc.month || y != tc.year || ok != tc.ok {
			t.Errorf("parseExpiry(%q) = %d, %d, %v; want %d, %d, %v", tc.in, m, y, ok, tc.month, tc.year, tc.ok)
		}
	}
}

// TestASCIIFastPathsAgree checks that the ASCII shortcuts of foldCase and stripDiacritics give
// what the Unicode path gives, for every ASCII character alone and in names.
func TestASCIIFastPathsAgree(t *testing.T) {
	inputs := []string{"", "O'Brien-SMITH", "  Mary   Ann ", "ACME Ltd. 42", "\t\x00\x7f"}
	for c := range 128 {
		inputs = append(inputs, string(rune(c)), "x"+string(rune(c))+"Y")
	}
	for _, s := range inputs {
		if got, want := foldCase(s), cases.Fold().String(s); got != want {
			t.Errorf("foldCase(%q) = %q, the Unicode fold gives %q", s, got, want)
		}
		slow, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := stripDiacritics(s), baseLetters(slow); got != want {
			t.Errorf("stripDiacritics(%q) = %q, the Unicode path gives %q", s, got, want)
		}
	}
	if isASCII("Łukasz") || !isASCII("Lukasz") {
		t.Error("isASCII does not tell ASCII from the rest")
	}
}
