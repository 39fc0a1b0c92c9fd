DROP TABLE business_identities;
DROP TABLE personal_identities;
DROP TABLE identity_containers;
DROP TABLE api_keys;
DROP TABLE tenants;
