package reconcile

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzNormalizers feeds arbitrary pairs of strings to every normaliser and comparer. The seed
// corpus lives in testdata/fuzz/FuzzNormalizers; `go test` runs it on every build.
func FuzzNormalizers(f *testing.F) {
	f.Add("Zoë", "ZOE ")
	f.Add("+447700900123", "07700 900123")
	f.Fuzz(func(t *testing.T, a, b string) {
		comparers := map[string]comparer{
			"text": compareText, "email": compareEmail, "phone": phoneComparer("GB"),
			"language": compareLanguage, "postal": comparePostalCode, "country": compareCountry,
			"expiry": compareExpiry, "status": compareStatus,
		}
		for name, cmp := range comparers {
			// A value always matches itself.
			if v, _ := compareOne(a, a, cmp); v != Match {
				t.Errorf("%s: compare(%q, itself) = %s", name, a, v)
			}
			v1, r1 := compareOne(a, b, cmp)
			if v1 == Equivalent && r1 == ReasonNone {
				t.Errorf("%s: equivalent without a reason for %q, %q", name, a, b)
			}
			if name == "status" {
				// The two sides speak different status vocabularies, so status is not symmetric.
				continue
			}
			// Swapping sides swaps the missing verdicts and keeps the others.
			v2, r2 := compareOne(b, a, cmp)
			if mirror(v1) != v2 || r1 != r2 {
				t.Errorf("%s: compare(%q, %q) = %s/%s but reversed = %s/%s", name, a, b, v1, r1, v2, r2)
			}
		}
		// Names the comparer calls equivalent share one normalised key.
		if v, _ := compareOne(a, b, compareText); v == Equivalent && NormalizeName(a) != NormalizeName(b) {
			t.Errorf("equivalent names %q, %q have keys %q, %q", a, b, NormalizeName(a), NormalizeName(b))
		}
		for name, norm := range map[string]func(string) string{
			"email": NormalizeEmail, "postal": NormalizePostalCode, "country": NormalizeCountry,
		} {
			once := norm(a)
			if twice := norm(once); twice != once {
				t.Errorf("%s normaliser not idempotent: %q -> %q -> %q", name, a, once, twice)
			}
		}
		// A value differs from itself in no part, and a part named is the same either way round.
		if ps := emailParts(a, a); len(ps) != 0 {
			t.Errorf("emailParts(%q, itself) = %v", a, ps)
		}
		if ps := phoneParts("GB")(a, a); len(ps) != 0 {
			t.Errorf("phoneParts(%q, itself) = %v", a, ps)
		}
		if p1, p2 := emailParts(a, b), emailParts(b, a); !slices.Equal(p1, p2) {
			t.Errorf("emailParts(%q, %q) = %v but reversed = %v", a, b, p1, p2)
		}
		if utf8.ValidString(a) && !utf8.ValidString(NormalizeName(a)) {
			t.Errorf("NormalizeName(%q) is not valid UTF-8", a)
		}
		if p := NormalizePhone(a, "GB"); len(p) > len(a)+16 {
			t.Errorf("NormalizePhone(%q) grew to %q", a, p)
		}
		if m, _, ok := parseExpiry(a); ok && (m < 1 || m > 12) {
			t.Errorf("parseExpiry(%q) accepted month %d", a, m)
		}
	})
}

// compareOne compares two single values as the comparison does: blank values are absent.
func compareOne(a, b string, cmp comparer) (Verdict, Reason) {
	return compareSets(nonBlank(one(a)), nonBlank(one(b)), cmp)
}

// mirror is the verdict seen from the other side.
func mirror(v Verdict) Verdict {
	switch v {
	case MissingAtIssuer:
		return MissingInDirectory
	case MissingInDirectory:
		return MissingAtIssuer
	}
	return v
}
