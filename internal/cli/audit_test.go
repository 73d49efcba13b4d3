package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/store"
)

// auditFixture is a dashboard database with a few audit events and the environment that
// names it.
type auditFixture struct {
	env map[string]string
	db  *store.DB
}

func newAuditFixture(t *testing.T, events int, age time.Duration) auditFixture {
	t.Helper()
	dir := t.TempDir()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CTPDESK_DATA_DIR":       dir,
		"CTPDESK_DATABASE_URL":   "sqlite:" + filepath.Join(dir, "dash.db"),
		"CTPDESK_AUDIT_HMAC_KEY": hex.EncodeToString(key),
	}
	db, err := store.Open(context.Background(), env["CTPDESK_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tr, err := audit.New(db, audit.Options{Key: key, CheckpointEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i := range events {
		e := audit.Event{
			Time:   time.Now().Add(-age + time.Duration(i)*time.Second),
			Actor:  audit.Actor{Issuer: "https://idp.test", Subject: "agent-1", Name: "Agent", Roles: []string{"agent"}},
			Action: audit.ActionCustomerView, Outcome: audit.Success, CustomerID: "CU00000001",
		}
		if err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return auditFixture{env: env, db: db}
}

func (f auditFixture) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncBuffer
	err := Run(context.Background(), append([]string{"ctpdesk", "audit"}, args...), envFrom(f.env), &out, &errOut)
	return out.String(), err
}

func TestAuditVerifyCommand(t *testing.T) {
	f := newAuditFixture(t, 7, time.Hour)
	out, err := f.run(t, "verify")
	if err != nil || strings.TrimSpace(out) != "verified 7 events up to seq 7" {
		t.Fatalf("verify = %q, %v", out, err)
	}
	out, err = f.run(t, "verify", "-json")
	var rep struct {
		OK       bool  `json:"ok"`
		Events   int64 `json:"events"`
		LastSeq  int64 `json:"last_seq"`
		BreakSeq int64 `json:"break_seq"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || !rep.OK || rep.Events != 7 || rep.LastSeq != 7 {
		t.Fatalf("verify -json = %q, %v", out, err)
	}

	if _, err := f.db.Exec("DROP TRIGGER audit_events_no_update"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec("UPDATE audit_events SET customer_id = 'CU00000002' WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	out, err = f.run(t, "verify")
	if !errors.Is(err, errChainBroken) || !strings.HasPrefix(out, "broken at seq 4: ") {
		t.Fatalf("verify after tampering = %q, %v; want a break at seq 4 and an error", out, err)
	}
	out, err = f.run(t, "verify", "-json")
	if !errors.Is(err, errChainBroken) || json.Unmarshal([]byte(out), &rep) != nil || rep.OK || rep.BreakSeq != 4 {
		t.Fatalf("verify -json after tampering = %q, %v", out, err)
	}
}

func TestAuditVerifyCommandErrors(t *testing.T) {
	f := newAuditFixture(t, 2, time.Hour)
	other := make([]byte, 32)
	if _, err := rand.Read(other); err != nil {
		t.Fatal(err)
	}
	wrongKey := map[string]string{}
	for k, v := range f.env {
		wrongKey[k] = v
	}
	wrongKey["CTPDESK_AUDIT_HMAC_KEY"] = hex.EncodeToString(other)
	out, err := auditFixture{env: wrongKey}.run(t, "verify")
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "another key") {
		t.Errorf("verify under another key = %q, %v", out, err)
	}

	noKey := map[string]string{"CTPDESK_DATA_DIR": t.TempDir(), "CTPDESK_DATABASE_URL": f.env["CTPDESK_DATABASE_URL"]}
	if _, err := (auditFixture{env: noKey}).run(t, "verify"); err == nil || !strings.Contains(err.Error(), "CTPDESK_AUDIT_HMAC_KEY") {
		t.Errorf("verify without a key = %v, want an error naming %s", err, "CTPDESK_AUDIT_HMAC_KEY")
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"verify", "-bogus"}} {
		if _, err := f.run(t, args...); err == nil {
			t.Errorf("audit %v succeeded", args)
		}
	}
	badDB := map[string]string{"CTPDESK_AUDIT_HMAC_KEY": f.env["CTPDESK_AUDIT_HMAC_KEY"], "CTPDESK_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}
	if _, err := (auditFixture{env: badDB}).run(t, "verify"); err == nil {
		t.Error("verify against an unreachable database succeeded")
	}
}

func TestAuditPurgeCommand(t *testing.T) {
	f := newAuditFixture(t, 5, 500*24*time.Hour)
	out, err := f.run(t, "purge")
	if err != nil || !strings.HasPrefix(out, "purged 5 events older than ") {
		t.Fatalf("purge = %q, %v", out, err)
	}
	out, err = f.run(t, "verify")
	if err != nil || strings.TrimSpace(out) != "verified 0 events up to seq 5" {
		t.Fatalf("verify after purge = %q, %v", out, err)
	}
	f.env["CTPDESK_AUDIT_RETENTION"] = "600d"
	if out, err := f.run(t, "purge"); err != nil || !strings.HasPrefix(out, "purged 0 events") {
		t.Fatalf("second purge = %q, %v", out, err)
	}
}
