package audit

import (
	"testing"
	"time"
)

func goldenEvent() Event {
	return Event{
		Seq:  7,
		Time: time.Date(2026, 11, 24, 13, 0, 0, 250_000_000, time.UTC),
		Actor: Actor{
			Issuer: "https://idp.example.test", Subject: "u-1", Name: "Agent One",
			Roles: []string{"agent"},
		},
		Action: ActionReveal, Outcome: Success, CustomerID: "C000001",
		Details:  map[string]string{"field": "phone", "reason": "customer_on_phone"},
		ClientIP: "192.0.2.1", UserAgent: "UA", RequestID: "req-1",
	}
}

// TestCanonicalV1Golden pins encoding version 1: if this hash changes, every stored chain
// would stop verifying, so a change must come with a new EncodingVersion instead. The value
// was computed by an independent implementation of the encoding documented on canonicalV1.
func TestCanonicalV1Golden(t *testing.T) {
	e := goldenEvent()
	got, ok := chainHash(GenesisHash, &e)
	if !ok {
		t.Fatal("chainHash rejected the genesis hash")
	}
	const want = "093955327790f51e50ae086028b58dc943fb7462f59a04a9bf1fadea3e2da921"
	if got != want {
		t.Fatalf("chainHash = %s, want %s", got, want)
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	a, b := goldenEvent(), goldenEvent()
	a.Actor.Subject, a.Actor.Name = "u-1A", "gent One"
	b.Actor.Subject, b.Actor.Name = "u-1", "Agent One"
	if string(canonicalV1(&a)) == string(canonicalV1(&b)) {
		t.Fatal("moving a byte across a field boundary kept the encoding")
	}
	c := goldenEvent()
	c.Details = map[string]string{"field": "phone", "reason": "customer_on_phone", "": ""}
	base := goldenEvent()
	if string(canonicalV1(&c)) == string(canonicalV1(&base)) {
		t.Fatal("an extra empty detail kept the encoding")
	}
	d := goldenEvent()
	d.Actor.Roles = []string{"agent", ""}
	if string(canonicalV1(&d)) == string(canonicalV1(&base)) {
		t.Fatal("an extra empty role kept the encoding")
	}
}

func TestChainHashRejectsBadPrev(t *testing.T) {
	e := goldenEvent()
	for _, prev := range []string{"", "zz", GenesisHash[:62], GenesisHash + "00"} {
		if _, ok := chainHash(prev, &e); ok {
			t.Errorf("chainHash accepted previous hash %q", prev)
		}
	}
}

func TestSealsDependOnKeyAndFields(t *testing.T) {
	s1, s2 := newSealer([]byte("k1-0123456789abcdef0123456789abcdef")), newSealer([]byte("k2-0123456789abcdef0123456789abcdef"))
	if s1.keyID == s2.keyID {
		t.Fatal("two keys share a key id")
	}
	base := s1.headMAC(5, GenesisHash, 1)
	for name, other := range map[string]string{
		"other key":        s2.headMAC(5, GenesisHash, 1),
		"other seq":        s1.headMAC(6, GenesisHash, 1),
		"other checkpoint": s1.headMAC(5, GenesisHash, 2),
		"checkpoint tag":   s1.checkpointMAC(1, kindPeriodic, 5, GenesisHash, 0),
	} {
		if equalMAC(base, other) {
			t.Errorf("%s: same seal", name)
		}
	}
}
