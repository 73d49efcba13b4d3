package issuerdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGetAndCustomerByConsumerID(t *testing.T) {
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			ctx := context.Background()
			for _, i := range []int{0, 17, 1000, testCustomers - 1} {
				got, err := db.Get(ctx, all[i].ID)
				if err != nil {
					t.Fatalf("Get(%s): %v", all[i].ID, err)
				}
				if diff := cmp.Diff(all[i], got); diff != "" {
					t.Errorf("Get(%s) (-generated +stored):\n%s", all[i].ID, diff)
				}
				got, err = db.CustomerByConsumerID(ctx, all[i].ConsumerID)
				if err != nil {
					t.Fatalf("CustomerByConsumerID: %v", err)
				}
				if diff := cmp.Diff(all[i], got); diff != "" {
					t.Errorf("CustomerByConsumerID(%s) (-generated +stored):\n%s", all[i].ConsumerID, diff)
				}
			}
			for _, id := range []string{"", "CU99999999", "' OR 1=1 --", "\xff"} {
				if _, err := db.Get(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
				}
				if _, err := db.CustomerByConsumerID(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Errorf("CustomerByConsumerID(%q) = %v, want ErrNotFound", id, err)
				}
			}
		})
	}
}

func TestSeedAndEnsureSeeded(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			seeded, err := EnsureSeeded(ctx, b.url, 300, testSeed)
			if err != nil || !seeded {
				t.Fatalf("first EnsureSeeded = %v, %v; want true, nil", seeded, err)
			}
			seeded, err = EnsureSeeded(ctx, b.url, 300, testSeed)
			if err != nil || seeded {
				t.Fatalf("second EnsureSeeded = %v, %v; want false, nil", seeded, err)
			}
			if err := Seed(ctx, b.url, 300, testSeed); !errors.Is(err, ErrAlreadySeeded) {
				t.Errorf("Seed over a portfolio = %v, want ErrAlreadySeeded", err)
			}
			db, err := Open(ctx, b.url, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.db.ExecContext(ctx, "DELETE FROM cards"); err == nil {
				t.Error("a read-only handle deleted rows")
			}
			last, err := db.Get(ctx, CustomerID(299))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(NewGenerator(testSeed).Customer(299), last); diff != "" {
				t.Errorf("(-generated +stored):\n%s", diff)
			}
			if _, err := db.Get(ctx, CustomerID(300)); !errors.Is(err, ErrNotFound) {
				t.Errorf("customer beyond the portfolio: %v", err)
			}
		})
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{"", "mysql://x", "sqlite:", "sqlite:/tmp/x.db?mode=rw", "file:/tmp/x.db", "postgres://%zz"} {
		if _, err := Open(ctx, u, Options{}); !errors.Is(err, ErrBadURL) {
			t.Errorf("Open(%q) = %v, want ErrBadURL", u, err)
		}
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, "sqlite:"+empty, Options{ReadOnly: true}); !errors.Is(err, ErrNoSchema) {
		t.Errorf("read-only open of an empty file = %v, want ErrNoSchema", err)
	}
	if _, err := Open(ctx, "sqlite:"+filepath.Join(dir, "missing", "x.db"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing file succeeded")
	}
	for _, n := range []int{0, -1, MaxSeedCustomers + 1} {
		if err := Seed(ctx, "sqlite:"+filepath.Join(dir, "n.db"), n, 1); err == nil {
			t.Errorf("Seed of %d customers succeeded", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "n.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused seed left a file behind: %v", err)
	}
}
