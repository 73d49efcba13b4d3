package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"ctpdesk/store"

	"github.com/google/go-cmp/cmp"
)

func TestLooksPersonal(t *testing.T) {
	personal := []string{
		"jane.doe@example.test", "x@y", "+33612345678", "+1 (555) 010-9999", "06 12 34 56 78",
		"(555) 010-9999", "555.010.9999", "4111111111111111", "4111 1111 1111 1111",
		"4111-1111-1111-1111", "acct 1234567890", "C000001,jane@example.test", "C1, +447700900123",
		"0612345678",
	}
	for _, v := range personal {
		if !LooksPersonal(v) {
			t.Errorf("LooksPersonal(%q) = false, want true", v)
		}
	}
	fine := []string{
		"", "C000123", "email", "phone", "card:crd_8f2a:expiry", "VISA,MASTERCARD",
		"3f9c2a1e-7b4d-4e0a-9c55-2b8d1f0e6a71", "C000001,C000002,C000003", "customer_on_phone",
		"200", "2026", "name", "last4", "1234", "req-42", "sandbox:timeout",
	}
	for _, v := range fine {
		if LooksPersonal(v) {
			t.Errorf("LooksPersonal(%q) = true, want false", v)
		}
	}
}

// TestDetailsRedaction: personal data in details never reaches the database; the event is
// still recorded, with the redacted keys named.
func TestDetailsRedaction(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{})
	e := sampleEvent(1)
	e.Details = map[string]string{
		"field":  "phone",
		"query":  "jane.doe@example.test",
		"value":  "+33 6 12 34 56 78",
		"card":   "4111111111111111",
		"reason": "dispute",
	}
	got, err := tr.Append(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"field": "phone", "reason": "dispute", "query": RedactedValue, "value": RedactedValue,
		"card": RedactedValue, RedactedKeysDetail: "card,query,value",
	}
	if diff := cmp.Diff(want, got.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	var stored string
	if err := db.QueryRow("SELECT details FROM audit_events WHERE seq = 1").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"jane", "example.test", "12 34", "4111"} {
		if strings.Contains(stored, secret) {
			t.Errorf("stored details %q hold %q", stored, secret)
		}
	}
	if r := mustVerify(t, tr); !r.OK() {
		t.Fatal(r)
	}
}

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	e := sampleEvent(1)
	e.Actor.Name = "Agent\x00 \x1b[31mRed\u0085"
	e.UserAgent = strings.Repeat("é", 300)
	e.RequestID = "req-\xff-1"
	e.ClientIP = "192.0.2.1\n"
	got, err := normalize(e, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Actor.Name != "Agent [31mRed" {
		t.Errorf("name = %q, want control characters removed", got.Actor.Name)
	}
	if len(got.UserAgent) > maxUserAgent || !strings.HasPrefix(got.UserAgent, "éé") || strings.ContainsRune(got.UserAgent, '\uFFFD') {
		t.Errorf("user agent not cut at a rune boundary within %d bytes: %d bytes", maxUserAgent, len(got.UserAgent))
	}
	if got.RequestID != "req-\uFFFD-1" {
		t.Errorf("request id = %q, want invalid UTF-8 replaced", got.RequestID)
	}
	if got.ClientIP != "192.0.2.1" {
		t.Errorf("client ip = %q", got.ClientIP)
	}
	if !got.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 678000000, time.UTC)) {
		t.Errorf("time = %v, want now truncated to milliseconds", got.Time)
	}
	tooMany := sampleEvent(1)
	tooMany.Details = map[string]string{}
	for i := range maxDetails + 1 {
		tooMany.Details[strings.Repeat("k", i+1)] = "v"
	}
	if _, err := normalize(tooMany, now); err == nil {
		t.Error("normalize accepted more than maxDetails details")
	}
	tooManyRoles := sampleEvent(1)
	tooManyRoles.Actor.Roles = make([]string, maxRoles+1)
	if _, err := normalize(tooManyRoles, now); err == nil {
		t.Error("normalize accepted more than maxRoles roles")
	}
}

// TestHostileStringsRoundTrip: whatever bytes a client sends in the fields it controls, the
// stored event verifies on both engines.
func TestHostileStringsRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{})
		for _, s := range []string{"\x00", "\xff\xfe", "'; DROP TABLE audit_events; --", "<script>", "\u2028", strings.Repeat("x", 10000)} {
			e := sampleEvent(1)
			e.UserAgent, e.RequestID, e.Actor.Name, e.CustomerID = s, s, s, s
			e.Details = map[string]string{"q": s}
			if err := tr.Record(context.Background(), e); err != nil {
				t.Fatalf("Record(%q): %v", s[:min(len(s), 20)], err)
			}
		}
		if r := mustVerify(t, tr); !r.OK() {
			t.Fatal(r)
		}
	})
}
