-- A reviewer's reason code (from the operator's configured list) and free-text note. The note is
-- sealed like other personal data, because a reviewer may write a name or a number into it.
ALTER TABLE review_items ADD COLUMN reason_code TEXT;
ALTER TABLE review_items ADD COLUMN note_ct BLOB;
ALTER TABLE review_items ADD COLUMN note_key_id TEXT;
