package d1sandbox_test

import (
	"context"
	"errors"
	"testing"

	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
)

// TestGeneratorPortfolio checks the generator-backed portfolio finds exactly the generated
// customers, with their cards, and derives every scenario kind on a realistic portfolio.
func TestGeneratorPortfolio(t *testing.T) {
	const seed, n = 1, 3000
	p, err := d1sandbox.NewGeneratorPortfolio(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	gen := issuerdb.NewGenerator(seed)
	kinds := map[d1sandbox.Kind]int{}
	for i := range n {
		want := gen.Customer(i)
		got, err := p.CustomerByConsumerID(context.Background(), want.ConsumerID)
		if err != nil || got.ID != want.ID || len(got.Cards) != len(want.Cards) {
			t.Fatalf("customer %d: %v", i, err)
		}
		_, dv := d1sandbox.Derive(seed, got)
		kinds[dv.Kind]++
	}
	for _, k := range []d1sandbox.Kind{d1sandbox.KindMatch, d1sandbox.KindDiffers, d1sandbox.KindRisk, d1sandbox.KindNoCard, d1sandbox.KindNotEnrolled} {
		if kinds[k] == 0 {
			t.Errorf("no %s consumer in the generated portfolio", k)
		}
	}
	if _, err := p.CustomerByConsumerID(context.Background(), "unknown"); !errors.Is(err, issuerdb.ErrNotFound) {
		t.Errorf("unknown consumer: %v", err)
	}
	for _, bad := range []int{0, -1, 5_000_001} {
		if _, err := d1sandbox.NewGeneratorPortfolio(seed, bad); err == nil {
			t.Errorf("size %d accepted", bad)
		}
	}
	t.Logf("kinds over %d generated customers: %v", n, kinds)
}
