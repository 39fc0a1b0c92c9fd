ALTER TABLE review_items DROP COLUMN note_key_id;
ALTER TABLE review_items DROP COLUMN note_ct;
ALTER TABLE review_items DROP COLUMN reason_code;
