package issuerdb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë": "zoe", "Nguyễn": "nguyen", "Łukasz": "lukasz", "Øyvind": "oyvind", "Siobhán": "siobhan",
		"Müller": "muller", "Weiß": "weiss", "Sæther": "saether", "O'Sullivan": "osullivan",
		"Smith-Jones": "smith jones", "  Ní  Dhomhnaill ": "ni dhomhnaill", "Zoe\u0308": "zoe",
		"Đặng": "dang", "NEAR(x)": "near x", `"*--%_`: "", "": "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseQueryKinds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want plan
	}{
		{"John@Example.com", plan{Kind: KindEmail, Value: "john@example.com"}},
		{"john.smith@", plan{Kind: KindEmail, Value: "john.smith@", EmailPrefix: true}},
		{"john@exam", plan{Kind: KindEmail, Value: "john@exam", EmailPrefix: true}},
		{"+44 7700 900123", plan{Kind: KindPhone, Value: "+447700900123"}},
		{"07700 900123", plan{Kind: KindPhone, Value: "+447700900123"}},
		{"(0)7700-900.123", plan{Kind: KindPhone, Value: "+447700900123"}},
		{"4242", plan{Kind: KindLast4, Value: "4242"}},
		{"4242 Smith", plan{Kind: KindLast4Name, Value: "4242", Tokens: []string{"smith"}, Key: "smith"}},
		{"zoë 4242", plan{Kind: KindLast4Name, Value: "4242", Tokens: []string{"zoe"}, Key: "zoe"}},
		{"cu00000042", plan{Kind: KindCustomerID, Value: "CU00000042"}},
		{"3f2a9c1e-0b4d-4e6f-8a7b-9c0d1e2f3a4b", plan{Kind: KindConsumerID, Value: "3f2a9c1e-0b4d-4e6f-8a7b-9c0d1e2f3a4b"}},
		{"abc_123", plan{Kind: KindConsumerID, Value: "abc_123"}},
		{"Smi Jo", plan{Kind: KindName, Tokens: []string{"smi", "jo"}, Key: "jo smi"}},
		{"NEAR", plan{Kind: KindName, Tokens: []string{"near"}, Key: "near"}},
	} {
		got, err := parseQuery(tc.in, "GB")
		if err != nil {
			t.Errorf("parseQuery(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(plan{})); diff != "" {
			t.Errorf("parseQuery(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
