package d1_test

import (
	"errors"
	"testing"

	"ctpdesk/d1"
)

// TestNewError checks that an error built for a fake matches the sentinel of its class and
// keeps its class, status and correlation id, as the client's own errors do.
func TestNewError(t *testing.T) {
	for _, tc := range []struct {
		class string
		kind  error
	}{
		{d1.ClassNotFound, d1.ErrNotFound},
		{d1.ClassTimeout, d1.ErrUnavailable},
		{d1.ClassBadResponse, d1.ErrBadResponse},
		{d1.ClassForbidden, d1.ErrUnauthorized},
	} {
		err := d1.NewError(tc.class, 404, "corr-x")
		if !errors.Is(err, tc.kind) || d1.ClassOf(err) != tc.class || err.CorrelationID != "corr-x" || err.Status != 404 {
			t.Errorf("NewError(%s) = %v (class %s), want kind %v", tc.class, err, d1.ClassOf(err), tc.kind)
		}
	}
}
