package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"ctpdesk/issuerdb"
)

func TestSeedCommand(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "issuer.db")
	getenv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	err := Run(ctx, []string{"ctpdesk", "seed", "--customers", "50", "--seed", "9", "--db", url}, getenv, &out, &errOut)
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "50 customers (seed 9)") {
		t.Errorf("output %q does not report what was written", out.String())
	}
	db, err := issuerdb.Open(ctx, url, issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := issuerdb.NewGenerator(9).Customer(49)
	got, err := db.Get(ctx, want.ID)
	if err != nil || got.ConsumerID != want.ConsumerID {
		t.Errorf("customer 49 = %+v, %v; want consumer %s", got, err, want.ConsumerID)
	}
	err = Run(ctx, []string{"ctpdesk", "seed", "--customers", "50", "--db", url}, getenv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already holds customers") {
		t.Errorf("seeding twice: %v, want a refusal", err)
	}
}

func TestSeedCommandRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--customers", "0", "--db", "sqlite:" + filepath.Join(dir, "a.db")},
		{"--customers", "-5", "--db", "sqlite:" + filepath.Join(dir, "b.db")},
		{"--customers", "many", "--db", "sqlite:" + filepath.Join(dir, "c.db")},
		{"--seed", "x", "--db", "sqlite:" + filepath.Join(dir, "d.db")},
		{"--customers", "5"},
		{"--customers", "5", "--db", "mysql://nope"},
		{"--customers", "5", "--db", "sqlite:" + filepath.Join(dir, "e.db"), "extra"},
	} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append([]string{"ctpdesk", "seed"}, args...), func(string) string { return "" }, &out, &errOut)
		if err == nil {
			t.Errorf("seed %v succeeded", args)
		}
	}
}
