package reconcile

import (
	"testing"

	"ctpdesk/d1"
)

// BenchmarkCompare measures one comparison of a customer with two cards against two directory
// profiles that differ in a few fields: the pure part of the comparison fragment.
func BenchmarkCompare(b *testing.B) {
	rec := testCustomer()
	res := mirrorResult(rec)
	res.Profiles[0].Consumer.Emails = []string{"Amelia.Hartmann@EXAMPLE.com", "other@example.org"}
	res.Profiles[0].Consumer.Phones = []d1.Phone{{Number: "07700 900123"}}
	res.Profiles[1].Consumer.FirstName = "AMÉLIA"
	res.Profiles[1].Cards[0].BillingAddress.Country = "GBR"
	for b.Loop() {
		Compare(rec, res, Options{Now: testNow})
	}
}
