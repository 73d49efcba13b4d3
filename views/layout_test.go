package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHeaderSignInButtonNotRepeatedOnTheSignInPage(t *testing.T) {
	render := func(nav string) string {
		var buf bytes.Buffer
		if err := Login(Base{Title: "Sign in", Nav: nav}, LoginPage{StartURL: "/auth/start"}).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	const headerButton = `<a href="/login" role="button"`
	if got := render("login"); strings.Contains(got, headerButton) {
		t.Error("the sign-in page repeats the sign-in button in its header")
	}
	if got := render(""); !strings.Contains(got, headerButton) {
		t.Error("other anonymous pages lost the header's sign-in button")
	}
}
