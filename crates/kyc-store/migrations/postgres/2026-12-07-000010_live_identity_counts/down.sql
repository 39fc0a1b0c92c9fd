DROP TABLE live_identity_counts;
