package d1sandbox_test

import (
	"context"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

// TestDerivationAgreesWithReconcile cross-checks the documented derivation against the
// comparison code on a generated portfolio: every consumer field a Derivation lists as changed
// gets a non-match verdict (equivalent when the change is only a format), and every other
// consumer field of a present directory matches. A disagreement means the sandbox doc or the
// comparison is wrong.
func TestDerivationAgreesWithReconcile(t *testing.T) {
	const seed, n = 3, 1500
	p, err := d1sandbox.NewGeneratorPortfolio(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	gen := issuerdb.NewGenerator(seed)
	consumerFields := []string{d1sandbox.FieldFirstName, d1sandbox.FieldMiddleName, d1sandbox.FieldLastName, d1sandbox.FieldEmail, d1sandbox.FieldPhone}
	checked := 0
	for i := range n {
		c, err := p.CustomerByConsumerID(context.Background(), gen.Customer(i).ConsumerID)
		if err != nil {
			t.Fatal(err)
		}
		profiles, dv := d1sandbox.Derive(seed, c)
		cmp := reconcile.Compare(c, d1.Result{Profiles: profiles, FetchedAt: time.Now()}, reconcile.Options{Now: time.Now()})
		changed := map[string]d1sandbox.Change{}
		for _, ch := range dv.Changes {
			changed[ch.Directory+"/"+ch.Field] = ch
		}
		present := map[string]bool{}
		for _, d := range dv.Directories {
			present[d] = true
		}
		for _, row := range cmp.Rows {
			if !contains(consumerFields, row.Field) {
				continue
			}
			for _, cell := range row.Cells {
				if !present[cell.Directory] {
					continue
				}
				checked++
				ch, listed := changed[cell.Directory+"/"+row.Field]
				switch {
				case listed && ch.Equivalent && cell.Verdict != reconcile.Equivalent:
					t.Errorf("%s %s %s: format-only change judged %s", c.ConsumerID, cell.Directory, row.Field, cell.Verdict)
				case listed && cell.Verdict == reconcile.Match:
					t.Errorf("%s %s %s: listed change judged match", c.ConsumerID, cell.Directory, row.Field)
				case !listed && cell.Verdict != reconcile.Match:
					t.Errorf("%s %s %s: unchanged field judged %s (%v vs %v)", c.ConsumerID, cell.Directory, row.Field, cell.Verdict, row.Issuer, cell.Values)
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d cells checked", checked)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
