DROP TABLE emergency_access;
DROP FUNCTION emergency_access_guard();
DROP TABLE disclosures;
DROP FUNCTION disclosures_guard();
DROP TABLE consents;
DROP FUNCTION consents_guard();
