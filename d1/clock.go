package d1

import "time"

// Clock tells the time. The token cache and the result cache read it, so tests can prove with
// a fake clock that one token serves a whole window of calls and that entries expire.
type Clock interface {
	Now() time.Time
}

// systemClock is the real clock.
type systemClock struct{}

// Now returns the current time.
func (systemClock) Now() time.Time { return time.Now() }
