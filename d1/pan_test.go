package d1_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// longDigits finds a free-standing run of twelve or more digits, the shape of a card number.
// Digits inside a hexadecimal id (correlation ids) or after a decimal point (durations in log
// lines) are not numbers of their own; the exact PANs are searched for separately above.
var longDigits = regexp.MustCompile(`(?:^|[^0-9A-Za-z.])([0-9]{12,})(?:$|[^0-9A-Za-z])`)

// TestFullPANNeverSurvives makes the sandbox send full card numbers and checks that no full
// PAN appears in the results, the logs or the errors.
func TestFullPANNeverSurvives(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) { c.MaxRetries = -1 }})
	c, want := e.customerWhere(t, func(d d1sandbox.Derivation) bool {
		return d.Kind == d1sandbox.KindMatch && len(d.Directories) == 2
	})
	var pans []string
	for _, p := range want {
		for _, card := range p.Cards {
			pans = append(pans, d1sandbox.FullPAN(p.Directory, card.ID, card.Last4))
		}
	}
	if len(pans) == 0 {
		t.Fatal("test customer has no card")
	}
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{FullPAN: true})
	res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range res.Profiles {
		for j, card := range p.Cards {
			if card.Last4 != want[i].Cards[j].Last4 {
				t.Errorf("Last4 = %q, want %q", card.Last4, want[i].Cards[j].Last4)
			}
		}
	}
	// A failing call with the PAN in the body: a malformed answer and a 500 must not leak it.
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Malformed: true})
	_, err1 := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true})
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Status: 500})
	_, err2 := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true})
	everything := fmt.Sprintf("%+v %#v %v %v %s", res, res, err1, err2, e.logs.String())
	for _, pan := range pans {
		if strings.Contains(everything, pan) {
			t.Fatalf("full PAN %s leaked", pan)
		}
	}
	if m := longDigits.FindStringSubmatch(everything); m != nil {
		i := strings.Index(everything, m[1])
		t.Fatalf("a long digit run %q appears in results, errors or logs: …%s…", m[1], everything[max(0, i-80):min(len(everything), i+40)])
	}
}

// TestDecodeCutsCardNumbers checks every card-number shape is cut to its last four digits and
// that errors do not quote numbers from the body.
func TestDecodeCutsCardNumbers(t *testing.T) {
	cases := map[string]string{
		`"4111111111111111"`:    "1111",
		`4111111111111111`:      "1111",
		`"4111 1111 1111 4242"`: "4242",
		`"**** **** **** 4242"`: "4242",
		`"4242"`:                "4242",
		`"42"`:                  "42",
		`null`:                  "",
		`4.111111111111111e15`:  "1115",
	}
	for in, want := range cases {
		body := `{"clickToPayProfiles":[{"scheme":"VISA","cards":[{"cardId":"c1","panLastDigits":` + in + `}]}]}`
		ps, err := d1.DecodeProfiles([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := ps[0].Cards[0].Last4; got != want {
			t.Errorf("%s: Last4 = %q, want %q", in, got, want)
		}
	}
	// Free-text fields holding a PAN are masked.
	body := `{"clickToPayProfiles":[{"scheme":"VISA","consumerInfo":{"firstName":"4111-1111-1111-1111"},"cards":[{"cardId":"c1","cardholderName":"JOHN 5500000000000004"}]}]}`
	ps, err := d1.DecodeProfiles([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Consumer.FirstName != "****1111" || ps[0].Cards[0].CardholderName != "JOHN ****0004" {
		t.Errorf("masked: %q %q", ps[0].Consumer.FirstName, ps[0].Cards[0].CardholderName)
	}
	// Errors never quote the body.
	for _, bad := range []string{
		`{"clickToPayProfiles":[{"cards":[{"expiryDate":{"pan":4111111111111111}}]}]}`,
		`{"clickToPayProfiles":[{"cards":4111111111111111}]}`,
		`{"clickToPayProfiles":[{"cards":[{"panLastDigits":[4111111111111111]}]}]}`,
		`{"clickToPayProfiles":[4111111111111111`,
	} {
		_, err := d1.DecodeProfiles([]byte(bad))
		if err == nil {
			t.Errorf("%s: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "4111111111111111") {
			t.Errorf("error quotes the PAN: %v", err)
		}
	}
}

// TestDecodeHostileShapes checks shapes a broken or hostile D1 might send fail cleanly.
func TestDecodeHostileShapes(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	for name, body := range map[string]string{
		"nested phone arrays": `{"clickToPayProfiles":[{"consumerInfo":{"mobilePhoneNumber":[[{"phoneNumber":"1"}]]}}]}`,
		"object as name":      `{"clickToPayProfiles":[{"consumerInfo":{"firstName":{"a":1}}}]}`,
		"array as scheme":     `{"clickToPayProfiles":[{"scheme":["VISA"]}]}`,
		"deep nesting":        `{"clickToPayProfiles":[{"x":` + deep + `}]}`,
		"string top level":    `"clickToPayProfiles"`,
		"empty":               ``,
		"whitespace":          " \n\t",
	} {
		if name == "deep nesting" {
			// Unknown fields are skipped, however deep: this one decodes.
			if _, err := d1.DecodeProfiles([]byte(body)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if _, err := d1.DecodeProfiles([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
