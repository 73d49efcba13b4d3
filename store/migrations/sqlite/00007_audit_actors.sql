-- +goose Up
-- The people who have signed in, with the email address their OpenID Provider gave at the
-- latest sign-in, so that the auditors' actor filter can match an email prefix. The trail's
-- events name the actor by issuer, subject and display name only; this directory sits beside
-- the hash chain and is not part of it.
CREATE TABLE audit_actors (
	actor_iss        TEXT    NOT NULL,
	actor_sub        TEXT    NOT NULL,
	actor_name       TEXT    NOT NULL,
	email            TEXT    NOT NULL,
	last_sign_in_ms  INTEGER NOT NULL,
	PRIMARY KEY (actor_iss, actor_sub)
);

-- +goose Down
DROP TABLE IF EXISTS audit_actors;
