package handlers

import "time"

// displayTime is how the customer pages write a moment: to the minute, in UTC, said so.
func displayTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }
