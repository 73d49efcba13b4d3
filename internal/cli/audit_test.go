package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/store"
)

// auditFixture is a dashboard database with a few audit events, their witness at dev's
// default place in the data dir, and the environment that names them.
type auditFixture struct {
	env     map[string]string
	db      *store.DB
	witness string
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
	witness := filepath.Join(dir, "audit-witness.jsonl")
	fw, err := audit.OpenFileWitness(witness)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	// The checkpoints are sealed as long ago as the events were recorded.
	tr, err := audit.New(db, audit.Options{Key: key, CheckpointEvery: 3, Witness: fw,
		Now: func() time.Time { return time.Now().Add(-age) }, Logger: slog.New(slog.DiscardHandler)})
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
	return auditFixture{env: env, db: db, witness: witness}
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
	if err != nil || strings.TrimSpace(out) != "verified 7 events up to seq 7, matching 2 witnessed seals" {
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
	// The purge sealed checkpoint 2 (seq 5) and the witness took it.
	out, err = f.run(t, "verify")
	if err != nil || strings.TrimSpace(out) != "verified 0 events up to seq 5, matching 2 witnessed seals" {
		t.Fatalf("verify after purge = %q, %v", out, err)
	}
	f.env["CTPDESK_AUDIT_RETENTION"] = "600d"
	if out, err := f.run(t, "purge"); err != nil || !strings.HasPrefix(out, "purged 0 events") {
		t.Fatalf("second purge = %q, %v", out, err)
	}
}

// wipe empties the trail and resets its head, as someone with write access to the database
// (but not the key) can.
func (f auditFixture) wipe(t *testing.T) {
	t.Helper()
	for _, q := range []string{"DELETE FROM audit_events", "DELETE FROM audit_checkpoints",
		"UPDATE audit_head SET seq = 0, hash = '" + audit.GenesisHash + "', checkpoint_n = 0, key_id = '', mac = '' WHERE id = 1"} {
		if _, err := f.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditVerifyWitnessDetectsAWipe: a wiped trail verifies clean on the database alone; the
// configured witness, or a copy of it given with --witness, shows what is missing.
func TestAuditVerifyWitnessDetectsAWipe(t *testing.T) {
	f := newAuditFixture(t, 7, time.Hour)
	witnessCopy := filepath.Join(t.TempDir(), "copy.jsonl")
	b, err := os.ReadFile(f.witness)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(witnessCopy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f.wipe(t)
	want := "broken at seq 1: the sealed head is at seq 0, behind the last witnessed seal (checkpoint 2 at seq 6): " +
		"witnessed checkpoints 1 to 2 (seq 3 to 6) are not in the database"
	for _, args := range [][]string{{"verify"}, {"verify", "--witness", witnessCopy}, {"verify", "-witness=" + witnessCopy}} {
		out, err := f.run(t, args...)
		if !errors.Is(err, errChainBroken) || strings.TrimSpace(out) != want {
			t.Errorf("%v after a wipe = %q, %v; want %q", args, out, err, want)
		}
	}
	// An attacker who also deletes the witness beside the database leaves the copy to tell.
	if err := os.Remove(f.witness); err != nil {
		t.Fatal(err)
	}
	if out, err := f.run(t, "verify"); err != nil || !strings.HasPrefix(out, "verified 0 events up to seq 0, matching 0 witnessed seals\n") {
		t.Fatalf("verify with the local witness deleted too = %q, %v", out, err)
	}
	out, err := f.run(t, "verify", "--witness", witnessCopy, "-json")
	var rep reportJSON
	if !errors.Is(err, errChainBroken) || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("verify -json --witness after a wipe = %q, %v", out, err)
	}
	if rep.OK || rep.BreakSeq != 1 || rep.Summary != want || rep.Witness == nil || rep.Witness.Source != witnessCopy ||
		rep.Witness.Seals != 2 || rep.Witness.LastSeq != 6 {
		t.Fatalf("verify -json --witness after a wipe = %+v", rep)
	}
}

func TestAuditVerifyWitnessErrors(t *testing.T) {
	f := newAuditFixture(t, 7, time.Hour)
	missing := filepath.Join(t.TempDir(), "none.jsonl")
	out, err := f.run(t, "verify", "--witness", missing)
	want := "broken at seq 3: the witness " + missing + " does not exist, but the database holds checkpoints 1 to 2 (seq 3 to 6): " +
		"the witness was deleted, or is not the one this trail writes to"
	if !errors.Is(err, errChainBroken) || strings.TrimSpace(out) != want {
		t.Errorf("verify against a missing witness = %q, %v; want %q", out, err, want)
	}
	if _, err := f.run(t, "verify", "--witness", t.TempDir()); err == nil || errors.Is(err, errChainBroken) {
		t.Errorf("verify against a directory = %v, want an error reading the witness", err)
	}
	if _, err := f.run(t, "verify", "--witness"); err == nil {
		t.Error("verify --witness without a file was accepted")
	}
	// A line cut short by a crash is reported, not fatal.
	fh, err := os.OpenFile(f.witness, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"v":1,"n":3`)
	fh.Close()
	out, err = f.run(t, "verify")
	if err != nil || out != "verified 7 events up to seq 7, matching 2 witnessed seals\n"+
		"witness "+f.witness+": line 3 was cut short (no line end: a write interrupted by a crash); skipped\n" {
		t.Errorf("verify with a torn witness line = %q, %v", out, err)
	}
}
