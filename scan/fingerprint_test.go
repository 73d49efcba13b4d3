package scan

import (
	"strings"
	"testing"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

func TestFingerprintsAreKeyedAndFollowTheNormalisedValue(t *testing.T) {
	fp, err := newFingerprinter(testKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newFingerprinter([]byte("another-key-of-thirty-two-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	name := func(v string) string { return normalise(reconcile.FieldFirstName, []string{v}, "GB") }
	if fp.sum("firstName@VISA", name("Zoë ")) != fp.sum("firstName@VISA", name("zoe")) {
		t.Error("a spelling-only change (case, accents, spacing) changes the fingerprint")
	}
	if fp.sum("firstName@VISA", name("Zoë")) == fp.sum("firstName@VISA", name("Chloe")) {
		t.Error("a changed value keeps its fingerprint")
	}
	if fp.sum("firstName@VISA", "x") == fp.sum("lastName@VISA", "x") || fp.sum("email@VISA", "x") == fp.sum("email@MASTERCARD", "x") {
		t.Error("equal values of two fields or directories share a fingerprint")
	}
	if fp.sum("email@VISA", "a@b.example") == other.sum("email@VISA", "a@b.example") {
		t.Error("the fingerprint does not depend on the key: anyone could compute it")
	}
	if _, err := newFingerprinter([]byte("short")); err == nil {
		t.Error("a short key is accepted")
	}
}

// What the scan stores of a customer holds none of their values: no name, email, phone, address
// or card digits, whatever the directory sent.
func TestStoredOutcomeHoldsNoPersonalData(t *testing.T) {
	fp, _ := newFingerprinter(testKey)
	gen := issuerdb.NewGenerator(testSeed)
	for i := range 200 {
		c := gen.Customer(i)
		profiles, _ := d1sandbox.Derive(testSeed, c)
		o := outcomeOf(reconcile.Compare(c, d1.Result{Profiles: profiles}, reconcile.Options{}), c, fp)
		stored := strings.Join([]string{encodeDirectories(o.Directories), strings.Join(findingKinds(o), ","),
			encodeFingerprints(o.Fingerprints), fp.digest(o)}, "|")
		values := []string{c.FirstName, c.LastName, c.Email, c.Phone, c.Address.Line1, c.Address.PostalCode}
		for _, card := range c.Cards {
			values = append(values, card.Last4, card.ID)
		}
		for _, p := range profiles {
			values = append(values, p.Consumer.Emails...)
		}
		for _, v := range values {
			if len(v) >= 4 && strings.Contains(stored, v) {
				t.Fatalf("%s: the stored outcome holds %q:\n%s", c.ID, v, stored)
			}
		}
		if len(encodeFingerprints(o.Fingerprints)) != 8*len(o.Fingerprints) {
			t.Fatalf("%s: fingerprints are not fixed-width tokens", c.ID)
		}
	}
}
