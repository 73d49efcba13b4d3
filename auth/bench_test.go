package auth

import "testing"

// BenchmarkSessionLoad is what every signed-in request pays: look the session up by its
// hashed id on SQLite, check both timeouts and move its last activity to now.
func BenchmarkSessionLoad(b *testing.B) {
	h := newHarness(b)
	c := h.mustLogin(b)
	for b.Loop() {
		s, err := h.load(b, c)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := s.User(); !ok {
			b.Fatal("session lost")
		}
	}
}
