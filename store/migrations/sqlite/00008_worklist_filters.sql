-- +goose Up
-- The worklist's filters at a million scanned customers. A page and its count walk an index in
-- the page's order (severity, customer id) and test each filter on the index entry itself,
-- never on the table row: the kind and directory filters (LIKE on the framed lists) through
-- the two covering indexes below, which replace those of 00006. The state, assignee and
-- "changed" filters, which may keep a handful of a million items, start at their value in an
-- index of their own instead of reading every item to find none.
DROP INDEX worklist_by_severity;
CREATE INDEX worklist_by_severity ON worklist_items (severity, customer_id, kinds, directories, findings) WHERE findings > 0;
DROP INDEX worklist_data_quality;
CREATE INDEX worklist_data_quality ON worklist_items (severity, customer_id, dq_kinds, directories, dq_findings, findings) WHERE dq_findings > 0;
CREATE INDEX worklist_by_state ON worklist_items (state, severity, customer_id, kinds, dq_kinds, directories, findings, dq_findings) WHERE findings > 0;
CREATE INDEX worklist_by_assignee ON worklist_items (decided_by, severity, customer_id, kinds, dq_kinds, directories, findings, dq_findings) WHERE findings > 0;
CREATE INDEX worklist_changed ON worklist_items (severity, customer_id) WHERE findings > 0 AND changed = 1;

-- +goose Down
DROP INDEX worklist_changed;
DROP INDEX worklist_by_assignee;
DROP INDEX worklist_by_state;
DROP INDEX worklist_data_quality;
CREATE INDEX worklist_data_quality ON worklist_items (severity, customer_id) WHERE dq_findings > 0;
DROP INDEX worklist_by_severity;
CREATE INDEX worklist_by_severity ON worklist_items (severity, customer_id) WHERE findings > 0;
