DROP TABLE review_items;
DROP TABLE document_images;
DROP TABLE documents;
DROP TABLE kyc_checks;
