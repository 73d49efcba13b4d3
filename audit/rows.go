package audit

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// storedEvent is an event as read back, with its encoding version and, when the stored
// roles or details are not valid JSON, why (verification reports it as a broken link; the
// query pages show the row with what could be decoded).
type storedEvent struct {
	Event
	version   int
	decodeErr string
}

func scanEvent(rows *sql.Rows) (storedEvent, error) {
	var (
		s                  storedEvent
		atMS               int64
		roles, details     string
		action, outcome    string
		actorIss, actorSub string
	)
	err := rows.Scan(&s.Seq, &s.version, &atMS, &actorIss, &actorSub, &s.Actor.Name, &roles,
		&action, &outcome, &s.CustomerID, &details, &s.ClientIP, &s.UserAgent, &s.RequestID,
		&s.PrevHash, &s.Hash)
	if err != nil {
		return storedEvent{}, fmt.Errorf("scan event: %w", err)
	}
	s.Actor.Issuer, s.Actor.Subject = actorIss, actorSub
	s.Action, s.Outcome = Action(action), Outcome(outcome)
	s.Time = time.UnixMilli(atMS).UTC()
	if err := json.Unmarshal([]byte(roles), &s.Actor.Roles); err != nil {
		s.decodeErr = "stored roles are not a JSON array of strings"
	}
	if len(s.Actor.Roles) == 0 {
		s.Actor.Roles = nil
	}
	if err := json.Unmarshal([]byte(details), &s.Details); err != nil {
		s.decodeErr = "stored details are not a JSON object of strings"
	}
	if len(s.Details) == 0 {
		s.Details = nil
	}
	return s, nil
}
