package issuerdb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHighlight(t *testing.T) {
	m := func(s string) Segment { return Segment{Text: s, Match: true} }
	p := func(s string) Segment { return Segment{Text: s} }
	for _, tc := range []struct {
		text   string
		tokens []string
		want   []Segment
	}{
		{"Zoë Ashworth", []string{"zoe"}, []Segment{m("Zoë"), p(" Ashworth")}},
		{"Charlotte Zoë Ashworth", []string{"zo", "ash"}, []Segment{p("Charlotte "), m("Zo"), p("ë "), m("Ash"), p("worth")}},
		{"Anh Văn Nguyễn", []string{"nguyen"}, []Segment{p("Anh Văn "), m("Nguyễn")}},
		{"John Smith", []string{"smi", "jo"}, []Segment{m("Jo"), p("hn "), m("Smi"), p("th")}},
		{"Amelia Smith-Jones", []string{"jo", "smith"}, []Segment{p("Amelia "), m("Smith"), p("-"), m("Jo"), p("nes")}},
		{"Seán O'Sullivan", []string{"osul"}, []Segment{p("Seán "), m("O'Sul"), p("livan")}},
		{"Seán O'Sullivan", []string{"o"}, []Segment{p("Seán "), m("O'"), p("Sullivan")}},
		// Decomposed input: the combining mark goes with its letter.
		{"Zoe\u0308 Hall", []string{"zoe"}, []Segment{m("Zoe\u0308"), p(" Hall")}},
		// One character folding to two letters is marked when the token reaches into it.
		{"Weiß", []string{"weis"}, []Segment{m("Weiß")}},
		{"Łukasz Wiśniewski", []string{"lu", "wis"}, []Segment{m("Łu"), p("kasz "), m("Wiś"), p("niewski")}},
		// The longest matching token wins; a token matching nothing marks nothing.
		{"Jo Johnson", []string{"jo", "john"}, []Segment{m("Jo"), p(" "), m("John"), p("son")}},
		{"Mary Brown", []string{"smith"}, []Segment{p("Mary Brown")}},
		{"Mary Brown", nil, []Segment{p("Mary Brown")}},
		{"Zoë O'Brien", []string{}, []Segment{p("Zoë O'Brien")}},
		{"", []string{"a"}, nil},
		{"", nil, nil},
		// Markup is text here: escaping is the template's job, and it is never split oddly.
		{"<b>Bob</b>", []string{"bo"}, []Segment{p("<b>"), m("Bo"), p("b</b>")}},
	} {
		got := Highlight(tc.text, tc.tokens)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Highlight(%q, %q) (-want +got):\n%s", tc.text, tc.tokens, diff)
		}
		var joined strings.Builder
		for _, s := range got {
			joined.WriteString(s.Text)
		}
		if joined.String() != tc.text {
			t.Errorf("Highlight(%q) segments join to %q", tc.text, joined.String())
		}
	}
}

// TestHighlightMarksWhatSearchMatched checks, over the test portfolio, that every name a
// search returns has a marked part for every query word, and only parts that fold to the
// start of a query word.
func TestHighlightMarksWhatSearchMatched(t *testing.T) {
	all := portfolio(testCustomers)
	byID := map[string]Customer{}
	for _, c := range all {
		byID[c.ID] = c
	}
	for _, q := range []string{"smi jo", "zoe", "nguyen", "o'sul", "muller", "lukasz", "j"} {
		p, err := parseQuery(q, "GB")
		if err != nil {
			t.Fatal(err)
		}
		ids := expectedIDs(all, p)
		if len(ids) == 0 {
			t.Fatalf("%q matches nobody: the case proves nothing", q)
		}
		for _, id := range ids {
			c := byID[id]
			name := c.FirstName + " " + c.MiddleName + " " + c.LastName
			var marked []string
			for _, s := range Highlight(name, p.Tokens) {
				if s.Match {
					marked = append(marked, Fold(s.Text))
				}
			}
			for _, tok := range p.Tokens {
				found := false
				for _, m := range marked {
					found = found || strings.HasPrefix(m, tok)
				}
				if !found {
					t.Errorf("%q: %s %q has no marked part for %q (marked %q)", q, id, name, tok, marked)
				}
			}
		}
	}
}

// TestFoldRuneIsFoldOfTheRune checks the one-character fold Highlight uses against Fold for
// every code point of the Basic Multilingual Plane and a few beyond it.
func TestFoldRuneIsFoldOfTheRune(t *testing.T) {
	runes := []rune{0x1F600, 0x10FFFF, 0x1D400, -1}
	for r := rune(0); r <= 0xFFFF; r++ {
		runes = append(runes, r)
	}
	bad := 0
	for _, r := range runes {
		if got, want := foldRune(r), Fold(string(r)); got != want {
			if bad++; bad <= 10 {
				t.Errorf("foldRune(%U) = %q, Fold = %q", r, got, want)
			}
		}
	}
}
